import {
  type Box,
  encodePayload,
  type FrameHeader,
  type PayloadEncoding,
  type RawImage,
} from '@squeezegate/shared';
import sharp from 'sharp';

/** A rectangle of the frame, in its pixels. */
export interface Region {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** Which part of the frame becomes a payload, and at what size. */
export interface Cut {
  region: Region;
  width: number;
  height: number;
}

/** A mask polygon as fractions of the frame (config `privacy.masks`). */
export type Polygon = readonly (readonly [number, number])[];

export type FaceMode = 'blur' | 'pixelate';

/** The frame a payload is cut from: its size, and its pixels unless the cut's are given. */
export interface Frame {
  width: number;
  height: number;
  pixels?: Buffer;
}

export interface Redaction {
  mode: FaceMode;
  masks: readonly Polygon[];
  /**
   * The face search on the cut itself, boxes in the cut's pixels (padded): what the payload
   * shows is what is searched, at the payload's own scale.
   */
  findFaces?: (cut: RawImage) => Promise<readonly Box[]>;
}

export interface Rendered {
  bytes: Buffer;
  mime: FrameHeader['mime'];
  /** Faces and masks that touched this payload (a face outside the cut does not count). */
  faces: number;
  masks: number;
  /** The face boxes obscured, in the payload's whole pixels. */
  boxes: [number, number, number, number][];
}

const raw = (width: number, height: number) => ({ raw: { width, height, channels: 3 as const } });

/**
 * Each face as a grid of flat blocks on its own grid: 4×4 for faces of 48 px and more, 2×2 for
 * small ones, one block under 16 px (a 4×4 grid on a 12 px face is the face's own resolution).
 * Per-face block sizes are what sharp cannot do in one pass.
 */
function pixelate(pixels: Buffer, width: number, boxes: readonly [number, number, number, number][]): Buffer {
  const out = Buffer.from(pixels);
  const stride = width * 3;
  for (const [x1, y1, x2, y2] of boxes) {
    const side = Math.max(x2 - x1, y2 - y1);
    const block = Math.ceil(side / (side >= 48 ? 4 : side >= 16 ? 2 : 1));
    for (let by = y1; by < y2; by += block) {
      for (let bx = x1; bx < x2; bx += block) {
        const ex = Math.min(x2, bx + block);
        const ey = Math.min(y2, by + block);
        const sum = [0, 0, 0];
        for (let y = by; y < ey; y++)
          for (let x = bx; x < ex; x++)
            for (let c = 0; c < 3; c++) sum[c]! += pixels[y * stride + x * 3 + c]!;
        const n = (ex - bx) * (ey - by);
        const mean = sum.map((v) => Math.round(v / n));
        for (let y = by; y < ey; y++)
          for (let x = bx; x < ex; x++) for (let c = 0; c < 3; c++) out[y * stride + x * 3 + c] = mean[c]!;
      }
    }
  }
  return out;
}

/** The cut's pixels with every face replaced by a blurred or pixelated copy of itself. */
async function obscureFaces(
  pixels: Buffer,
  cut: Cut,
  boxes: readonly [number, number, number, number][],
  mode: FaceMode,
): Promise<Buffer> {
  const largest = Math.max(...boxes.map(([x1, y1, x2, y2]) => Math.max(x2 - x1, y2 - y1)));
  const { width, height } = cut;
  if (mode === 'pixelate') return pixelate(pixels, width, boxes);
  // A sigma of a quarter face leaves a skin-coloured blob: no eyes, no mouth, no identity.
  const sigma = Math.max(3, largest / 4);
  // Only the faces' surroundings are blurred (3σ around their union): a blur costs its area.
  const margin = Math.ceil(3 * sigma);
  const left = Math.max(0, Math.min(...boxes.map((b) => b[0])) - margin);
  const top = Math.max(0, Math.min(...boxes.map((b) => b[1])) - margin);
  const right = Math.min(width, Math.max(...boxes.map((b) => b[2])) + margin);
  const bottom = Math.min(height, Math.max(...boxes.map((b) => b[3])) + margin);
  const w = right - left;
  const obscured = await sharp(pixels, raw(width, height))
    .extract({ left, top, width: w, height: bottom - top })
    .blur(sigma)
    .raw()
    .toBuffer();
  const out = Buffer.from(pixels);
  const stride = width * 3;
  for (const [x1, y1, x2, y2] of boxes) {
    for (let y = y1; y < y2; y++) {
      const from = ((y - top) * w + (x1 - left)) * 3;
      obscured.copy(out, y * stride + x1 * 3, from, from + (x2 - x1) * 3);
    }
  }
  return out;
}

function maskSvg(masks: readonly Polygon[], frame: { width: number; height: number }, cut: Cut): string {
  const sx = cut.width / cut.region.width;
  const sy = cut.height / cut.region.height;
  const polygons = masks.map((polygon) => {
    const points = polygon
      .map(
        ([fx, fy]) =>
          `${((fx * frame.width - cut.region.left) * sx).toFixed(1)},${((fy * frame.height - cut.region.top) * sy).toFixed(1)}`,
      )
      .join(' ');
    return `<polygon points="${points}" fill="#000"/>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${cut.width}" height="${cut.height}">${polygons.join('')}</svg>`;
}

/** Whether a polygon (fractions of the frame) overlaps the cut's region at all (by bounding box). */
function touches(polygon: Polygon, frame: { width: number; height: number }, region: Region): boolean {
  const xs = polygon.map(([x]) => x * frame.width);
  const ys = polygon.map(([, y]) => y * frame.height);
  return (
    Math.max(...xs) > region.left &&
    Math.min(...xs) < region.left + region.width &&
    Math.max(...ys) > region.top &&
    Math.min(...ys) < region.top + region.height
  );
}

/** A region in whole pixels, inside the frame (sharp extracts whole pixels). */
function pixelRegion(region: Region, frame: { width: number; height: number }): Region {
  const left = Math.min(frame.width - 1, Math.max(0, Math.round(region.left)));
  const top = Math.min(frame.height - 1, Math.max(0, Math.round(region.top)));
  return {
    left,
    top,
    width: Math.max(1, Math.min(frame.width - left, Math.round(region.width))),
    height: Math.max(1, Math.min(frame.height - top, Math.round(region.height))),
  };
}

/**
 * The pixels of a cut of a decoded frame (whole pixels of the region, cubic resize to the
 * cut's size): what a payload shows before anything is redacted. The audit cuts its unredacted
 * reference with the same function.
 */
export async function cutFrom(image: RawImage, cut: Cut): Promise<Buffer> {
  const region = pixelRegion(cut.region, image);
  if (region.width === image.width && region.height === image.height) {
    if (cut.width === image.width && cut.height === image.height) return image.pixels;
  }
  return sharp(image.pixels, raw(image.width, image.height))
    .extract(region)
    .resize(cut.width, cut.height, { fit: 'fill', kernel: 'cubic' })
    .raw()
    .toBuffer();
}

/**
 * Cuts a payload out of a decoded frame, searches it for faces and obscures them, blacks out the
 * masks inside it, and encodes it (`encoding`: codec and quality; a bare number is a JPEG quality).
 * It is written from pixels: no EXIF, ICC or other metadata survives, whatever the captured file carried.
 */
export async function renderPayload(
  image: Frame,
  cut: Cut,
  redaction: Redaction,
  encoding: PayloadEncoding | number,
  /** The cut's pixels when the caller has them already (the classifier's view is the crop). */
  cutPixels?: Buffer,
): Promise<Rendered> {
  const { region } = cut;
  const whole =
    region.left === 0 &&
    region.top === 0 &&
    region.width === image.width &&
    region.height === image.height &&
    cut.width === image.width &&
    cut.height === image.height;
  if (!cutPixels && !image.pixels) throw new Error('renderPayload needs the frame or the cut as pixels');
  let pixels = cutPixels ?? (whole ? image.pixels! : await cutFrom({ ...image, pixels: image.pixels! }, cut));
  const faces: [number, number, number, number][] = [];
  if (redaction.findFaces) {
    const more = await redaction.findFaces({ pixels, width: cut.width, height: cut.height });
    for (const [x1, y1, x2, y2] of more) {
      const box: [number, number, number, number] = [
        Math.max(0, Math.floor(x1)),
        Math.max(0, Math.floor(y1)),
        Math.min(cut.width, Math.ceil(x2)),
        Math.min(cut.height, Math.ceil(y2)),
      ];
      if (box[2] > box[0] && box[3] > box[1]) faces.push(box);
    }
  }
  if (faces.length > 0) pixels = await obscureFaces(pixels, cut, faces, redaction.mode);
  const masks = redaction.masks.filter((m) => touches(m, image, region));
  let encoder = sharp(pixels, raw(cut.width, cut.height));
  if (masks.length > 0) encoder = encoder.composite([{ input: Buffer.from(maskSvg(masks, image, cut)) }]);
  const { bytes, mime } = await encodePayload(
    encoder,
    typeof encoding === 'number' ? { codec: 'jpeg', quality: encoding } : encoding,
  );
  return { bytes, mime, faces: faces.length, masks: masks.length, boxes: faces };
}

/** Grows a box by `padding` of its size on every side, clipped to the frame. */
export function padBox(box: Box, padding: number, frame: { width: number; height: number }): Box {
  const [x1, y1, x2, y2] = box;
  const dx = (x2 - x1) * padding;
  const dy = (y2 - y1) * padding;
  return [
    Math.max(0, x1 - dx),
    Math.max(0, y1 - dy),
    Math.min(frame.width, x2 + dx),
    Math.min(frame.height, y2 + dy),
  ];
}

/** The square around a box (grown by `padding`), shifted to stay inside the frame, in whole pixels. */
export function squareAround(box: Box, padding: number, frame: { width: number; height: number }): Region {
  const cx = (box[0] + box[2]) / 2;
  const cy = (box[1] + box[3]) / 2;
  const side = Math.min(
    Math.max(box[2] - box[0], box[3] - box[1]) * (1 + 2 * padding),
    frame.width,
    frame.height,
  );
  const s = Math.max(1, Math.round(side));
  const left = Math.min(Math.max(0, Math.round(cx - s / 2)), frame.width - s);
  const top = Math.min(Math.max(0, Math.round(cy - s / 2)), frame.height - s);
  return { left, top, width: s, height: s };
}

/**
 * The cut a classification payload takes from the frame: `crop` is the model's centre square
 * (short side scaled to `resizeShortSide`, then `centerCrop`²), `frame` the whole frame with its
 * short side at `resizeShortSide`, `original` the whole frame at full size.
 */
export function classificationCut(
  kind: 'crop' | 'frame' | 'original',
  frame: { width: number; height: number },
  preprocess: { resizeShortSide: number; centerCrop: number },
): Cut {
  const { width, height } = frame;
  const whole = { left: 0, top: 0, width, height };
  if (kind === 'original') return { region: whole, width, height };
  const short = Math.min(width, height);
  if (kind === 'frame') {
    const k = preprocess.resizeShortSide / short;
    return {
      region: whole,
      width: Math.max(1, Math.round(width * k)),
      height: Math.max(1, Math.round(height * k)),
    };
  }
  // The geometry of toModelView: short side scaled (each side rounded), then the centre square.
  const size = preprocess.centerCrop;
  const k = preprocess.resizeShortSide / short;
  const rw = Math.max(size, Math.round(width * k));
  const rh = Math.max(size, Math.round(height * k));
  const kx = rw / width;
  const ky = rh / height;
  const region = {
    left: ((rw - size) >> 1) / kx,
    top: ((rh - size) >> 1) / ky,
    width: size / kx,
    height: size / ky,
  };
  return { region, width: size, height: size };
}
