"""Faces: detection, quality gate, 5-point alignment, 128-d embedding, per-track aggregation.

Models are dlib's, shipped as files in the `face-recognition-models` wheel (`model_files`);
nothing is downloaded. The embedding network runs either through dlib itself (the reference)
or through onnxruntime from the same weights (`embedding`).
"""
