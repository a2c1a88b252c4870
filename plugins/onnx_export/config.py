"""Settings of the built-in ONNX exporter (no torch here: the plugin registers it lazily)."""

from __future__ import annotations

from dataclasses import dataclass

from artengine.config import option


@dataclass
class OnnxExportConfig:
    """How a network becomes an ONNX file, and how strictly the file is checked."""

    opset: int = option(18, min=13, max=23, help="ONNX opset version")
    exporter: str = option("auto", choices=("auto", "dynamo", "torchscript"),
                           help="torch exporter: dynamo (torch.export, torch>=2.6), torchscript (legacy), "
                                "auto tries dynamo then torchscript")
    quantize: str = option("none", choices=("none", "int8", "fp16"),
                           help="speed variant: int8 (static QDQ, calibrated on random latents) or fp16 weights")
    verify_batch: int = option(4, min=1, max=256, help="random batch used to check onnxruntime against PyTorch")
    atol: float = option(1e-4, min=0, help="max abs difference allowed between onnxruntime and PyTorch (fp32)")
    quantized_atol: float = option(0.25, min=0, help="max abs difference allowed for a quantized variant "
                                   "against the fp32 model (per pixel, values in [0, 1])")
    quantized_mean_atol: float = option(0.03, min=0, help="max mean abs difference allowed for a quantized "
                                        "variant against the fp32 model")
    rewrite: bool = option(True, help="int8: fold batch norms and turn stride-2 transposed convs into convs + "
                           "pixel interleave (exact), so onnxruntime's int8 conv kernels apply")
    calibration_batches: int = option(8, min=1, max=256, help="int8: batches of random latents for calibration")
    seed: int = option(0, min=0, help="seed of the verification and calibration inputs")
