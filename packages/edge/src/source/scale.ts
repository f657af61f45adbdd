import type { Scale } from './frame-source.ts';
import { SourceError, SourceErrorCode } from './source-error.ts';

/** Checks that the scale's side is a positive even number of pixels (rgb24 frames, yuv420 sources). */
export function checkScale(scale: Scale): number {
  const side = 'shortSide' in scale ? scale.shortSide : scale.longSide;
  if (!Number.isInteger(side) || side < 2 || side % 2 !== 0 || side > 8192) {
    throw new SourceError(`scale side must be an even number of pixels in [2, 8192], got ${side}`, {
      code: SourceErrorCode.UNSUPPORTED_SOURCE,
    });
  }
  return side;
}

/**
 * ffmpeg's `scale` filter for this scale. The chosen side is set, the other is `-2`: ffmpeg keeps
 * the aspect and rounds it to even, as `round(side × other / (chosen × 2)) × 2` (`scaledSize`).
 * The orientation test runs inside ffmpeg, so a portrait camera needs no probe first.
 */
export function scaleFilter(scale: Scale): string {
  const side = checkScale(scale);
  const test = 'shortSide' in scale ? 'lte(iw,ih)' : 'gte(iw,ih)';
  return `scale=w='if(${test},${side},-2)':h='if(${test},-2,${side})'`;
}

/** The size `scaleFilter` gives a `width`×`height` input (same rounding as ffmpeg's `-2`). */
export function scaledSize(width: number, height: number, scale: Scale): { width: number; height: number } {
  const side = checkScale(scale);
  const widthIsSet = 'shortSide' in scale ? width <= height : width >= height;
  if (widthIsSet) return { width: side, height: Math.max(2, Math.round((side * height) / (width * 2)) * 2) };
  return { width: Math.max(2, Math.round((side * width) / (height * 2)) * 2), height: side };
}
