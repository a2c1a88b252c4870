"""Embed an artengine model in your own app: numpy + onnxruntime (+ Pillow to save), no artengine, no torch.

    python examples/embed_app.py model.onnx out.png [SEED]
"""

import sys

import numpy as np
import onnxruntime as ort
from PIL import Image

session = ort.InferenceSession(sys.argv[1], providers=["CPUExecutionProvider"])
meta = session.get_modelmeta().custom_metadata_map          # artengine.latent_dim, .dataset, .recipe, ...
latent_dim = int(meta["artengine.latent_dim"])
seed = int(sys.argv[3]) if len(sys.argv) > 3 else 0
z = np.stack([np.random.default_rng([seed, i]).standard_normal(latent_dim) for i in range(8)]).astype(np.float32)
images = session.run(["image"], {"z": z})[0]                  # [8, C, H, W] in [0, 1]
row = np.concatenate(list(images.transpose(0, 2, 3, 1)), axis=1)  # eight images side by side
Image.fromarray((row.squeeze() * 255 + 0.5).astype(np.uint8)).save(sys.argv[2])
print(f"wrote {sys.argv[2]}: 8 images from seed {seed} ({meta.get('artengine.dataset')} model)")
