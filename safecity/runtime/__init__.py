"""The city-wide runtime of `safecity serve`: workers, writer, alerts, reloads, sweeps (`city.Runtime`)."""
