import { UserFacingError } from './failures';

/** Large photos are scaled down before they cross the data channel (messages there are limited in size). */
const MAX_SIDE = 1024;
const MAX_DATA_URL_CHARS = 180_000;
const ACCEPTED = /^image\/(png|jpeg|webp|gif)$/;

/** Reads an image file or pasted image into a JPEG/PNG data URL small enough to send as `input_image`. */
export async function imageToDataUrl(file: Blob): Promise<string> {
  if (!ACCEPTED.test(file.type))
    throw new UserFacingError('image_type', 'Only PNG, JPEG, WebP or GIF images can be sent.');
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    throw new UserFacingError('image_unreadable', 'That image could not be read.');
  }
  const scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
  const canvas = document.createElement('canvas');
  canvas.width = Math.max(1, Math.round(bitmap.width * scale));
  canvas.height = Math.max(1, Math.round(bitmap.height * scale));
  canvas.getContext('2d')!.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  bitmap.close();
  // PNG keeps small diagrams sharp; photos become JPEG, lowering quality until the result fits.
  let url = canvas.toDataURL('image/png');
  for (let q = 0.9; url.length > MAX_DATA_URL_CHARS && q >= 0.3; q -= 0.15) url = canvas.toDataURL('image/jpeg', q);
  if (url.length > MAX_DATA_URL_CHARS)
    throw new UserFacingError('image_too_large', 'That image is too large to send, even scaled down.');
  return url;
}
