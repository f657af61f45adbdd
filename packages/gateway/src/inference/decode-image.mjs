// toModelView ('crop' and 'full' views) + toTensorData of @squeezegate/shared, for the inference
// workers. Plain JavaScript with sharp alone, because a worker thread starts without a TypeScript
// loader and so cannot import the shared package's sources (tests run from them). The recipe must
// stay the shared one: local-backend.test.ts checks the logits bit for bit against it.
import sharp from 'sharp';

// As in shared's preprocess.ts: a decompression bomb costs no more than a 24-megapixel frame.
const MAX_PIXELS = 24 * 1000 * 1000;

/** A message that says why the bytes are not an image (shared's ImageDecodeError's). */
export class UndecodableImage extends Error {
  name = 'UndecodableImage';
}

/**
 * Decodes `bytes` and writes the model's planar float32 tensor into `out` (3 × size²):
 * sRGB, 3 channels; `crop` resizes to size×size, `full` resizes the short side then cuts the centre.
 */
export async function decodeToTensor(bytes, { preprocess, view }, out) {
  const { resizeShortSide, centerCrop: size } = preprocess;
  let pixels;
  try {
    const image = sharp(bytes, { failOn: 'warning', limitInputPixels: MAX_PIXELS }).rotate();
    let pipeline = image.removeAlpha().toColourspace('srgb');
    if (view === 'crop') {
      // The header read that shared's recipe starts with only finds the size, which a crop does not
      // need: the gateway screened these bytes with the same read (cloud-inference.ts), so it
      // succeeded once already. Skipping it saves a parse per frame; the pixels are the same.
      pipeline = pipeline.resize(size, size, { fit: 'fill', kernel: 'cubic' });
    } else {
      const meta = await image.metadata();
      const swap = (meta.orientation ?? 1) >= 5;
      const width = swap ? meta.height : meta.width;
      const height = swap ? meta.width : meta.height;
      if (!width || !height) throw new Error('image has no dimensions');
      const k = resizeShortSide / Math.min(width, height);
      const rw = Math.max(size, Math.round(width * k));
      const rh = Math.max(size, Math.round(height * k));
      pipeline = pipeline
        .resize(rw, rh, { fit: 'fill', kernel: 'cubic' })
        .extract({ left: (rw - size) >> 1, top: (rh - size) >> 1, width: size, height: size });
    }
    const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 3 || info.width !== size || info.height !== size) {
      throw new Error(`unexpected decode result ${info.width}x${info.height}x${info.channels}`);
    }
    pixels = data;
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new UndecodableImage(`cannot decode image: ${reason}`, { cause });
  }
  const plane = pixels.length / 3;
  const { scale, mean, std } = preprocess;
  const src = preprocess.channelOrder === 'RGB' ? [0, 1, 2] : [2, 1, 0];
  for (let c = 0; c < 3; c++) {
    const s = src[c];
    const m = mean[c];
    const inv = 1 / std[c];
    const base = c * plane;
    for (let i = 0; i < plane; i++) out[base + i] = (pixels[i * 3 + s] * scale - m) * inv;
  }
}
