// The server's limits (config/imageboard.yaml MAX_IMAGE_BYTES; v1 notes: title 255, post
// content 5000, comment 1000; decision 10: JPEG or PNG). Checked here before uploading so
// people hear at once; the server checks again.
export const MAX_IMAGE_BYTES = 5 * 1024 * 1024;
export const IMAGE_TYPES = ["image/jpeg", "image/png"];
export const MAX_TITLE = 255;
export const MAX_CONTENT = 5000;
export const MAX_COMMENT = 1000;

export function imageProblem(file: File): string | null {
  if (!IMAGE_TYPES.includes(file.type)) return "The image must be a JPEG or PNG file.";
  if (file.size > MAX_IMAGE_BYTES) return `The image is ${(file.size / 1048576).toFixed(1)} MB; at most 5 MB is accepted.`;
  return null;
}
