"""Where dlib's face model files are: inside the installed `face-recognition-models` wheel.

The models are package data, so they arrive with `pip install` and nothing is fetched at run time.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import face_recognition_models


@dataclass(frozen=True, slots=True)
class FaceModelFiles:
    """The four model files: CNN (MMOD) detector, 5- and 68-point shape predictors, ResNet embedding."""

    cnn_detector: Path
    shape_5: Path
    shape_68: Path
    resnet: Path

    def check(self) -> FaceModelFiles:
        """Fail with the missing path named, rather than deep inside dlib."""
        for path in (self.cnn_detector, self.shape_5, self.shape_68, self.resnet):
            if not path.is_file():
                raise FileNotFoundError(
                    f"face model file {path} is missing; reinstall the face-recognition-models package"
                )
        return self


def face_model_files() -> FaceModelFiles:
    """The model files of the installed wheel."""
    return FaceModelFiles(
        cnn_detector=Path(face_recognition_models.cnn_face_detector_model_location()),
        shape_5=Path(face_recognition_models.pose_predictor_five_point_model_location()),
        shape_68=Path(face_recognition_models.pose_predictor_model_location()),
        resnet=Path(face_recognition_models.face_recognition_model_location()),
    ).check()
