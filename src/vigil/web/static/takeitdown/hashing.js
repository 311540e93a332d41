// Take It Down: hash a person's own pictures and videos in the browser, so that only hashes leave it.
//
// An ES module with no dependencies, no eval and no inline script (runs under
// `script-src 'self'; worker-src 'self'`; videos also need `media-src blob:`). Exports:
//
//   md5Hex(bytes: Uint8Array) -> string                      32 hex digits
//   sha256Hex(bytes: Uint8Array) -> Promise<string>          64 hex digits (crypto.subtle: https or
//                                                            127.0.0.1 only)
//   pdqFromRGBA(rgba: Uint8ClampedArray|Uint8Array, width, height) -> {hash, quality}
//                                                            hash: 64 hex digits, quality: 0-100
//   pdqFromLuma(luma: Float32Array|Uint8Array, width, height) -> {hash, quality}
//   hashImage(file: Blob, {sequential?, decoder?}) -> Promise<{md5, sha256, pdq, quality, width,
//                                                    height, decoder, timings}>
//       timings (ms): read, md5, decode, sha256, pdq, total; the stages overlap (decoding and
//       SHA-256 run off the main thread while MD5 runs) unless sequential: true, which runs them
//       one after the other for a benchmark's breakdown. decoder: "createImageBitmap" or "canvas"
//       forces the paths of browsers without ImageDecoder or VideoFrame (for tests).
//   hashVideo(file: Blob, onProgress? | {onProgress?, fps?, secondsPerHash?}) ->
//       Promise<{md5, sha256, vpdq: [{frame, quality, pdq, timestamp}], duration, fps, fpsSource,
//                frameTime, timings}>
//       onProgress(done, total) after each hashed frame (total is an estimate). fpsSource: "caller",
//       "mp4" (the sample table: FFmpeg's average rate, exactly), "playback" (measured while the
//       muted video plays for up to a second: WebM and others) or "default" (25).
//       Main thread only; rejects "this browser cannot decode the video" for codecs it cannot play.
//   createHashWorker() -> {hashImage(file) -> Promise<same as hashImage>, terminate()}
//       hashImage in a module Web Worker (worker.js), keeping the page responsive.
//
// The hashes are those Vigil computes on the server (src/vigil/signals/pdq.py, media/video.py):
//
// - PDQ follows pdq_from_luma on the full-size image decoded as Pillow does it:
//   Image.open(f).convert("RGB").convert("L"), i.e. EXIF orientation and colour profiles ignored,
//   alpha dropped, luma = (19595 R + 38470 G + 7471 B + 0x8000) >> 16. The blur + 64x64 sampling is
//   linear, a 64 x side band matrix per axis (axisKernel, equal to pdq.axis_kernel), so the 64x64
//   buffer costs one pass over the pixels. Python does the matrix products in float32 (BLAS), here
//   they are float64 sums rounded to float32: a coefficient that lies within rounding noise of the
//   median can take the other bit (measured: see tests/takeitdown/test_browser_hashing.py).
// - Decoding: Chromium applies EXIF orientation in createImageBitmap whatever `imageOrientation`
//   says ("none" and "from-image" both rotate, tested in Chromium 156), but a VideoFrame made from
//   the bitmap holds the stored pixels with the orientation beside it (rotation, flip), so
//   createImageBitmap (no colour conversion, no premultiplied alpha) + VideoFrame.copyTo gives
//   Pillow's RGB bit for bit. It serves JPEG and WebP. WebCodecs' ImageDecoder serves the other
//   types (pixels as stored, alpha as stored); it would hand lossy JPEG/WebP over as YUV planes,
//   whose conversion in VideoFrame.copyTo is not libjpeg's (up to 105 levels off): such output
//   falls back to createImageBitmap. Where frames show pixels as displayed (other browsers, or
//   a canvas where there is no VideoFrame) the orientation, from ImageDecoder or the JPEG's Exif,
//   is undone by reading the pixels in stored order.
//   Measured: bit-exact hash and quality on all 204 photos of Vigil's benign corpus and on every
//   generated test image (tests/takeitdown/test_browser_hashing.py).
// - vPDQ: one frame every int(fps * secondsPerHash) frames from frame 0, converted to RGB as PyAV
//   does (FFmpeg's x86 fixed-point BT.601), luma with float32 weights 0.299/0.587/0.114, timestamp =
//   frame / fps. See hashVideo for how frames are found by seeking; bit-exact on the test videos.

// ---------------------------------------------------------------------------------------------
// MD5 (RFC 1321). crypto.subtle has no MD5, and hotline hash lists are still mostly MD5.

// floor(|sin(i + 1)| x 2^32), written out rather than computed: Math.sin's last bit is the engine's.
const MD5_K = Int32Array.from([
  0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
  0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
  0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
  0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
  0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
  0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
  0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
  0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
]); // Int32Array wraps the values above 2^31 to the same 32 bits
const MD5_S = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];

// One 64-byte block at `p` of `b` into state `h` (4 x int32). Every value stays a 32-bit int; one
// loop per round keeps the inner loops free of branches.
function md5Block(h, b, p, x) {
  for (let i = 0; i < 16; i++, p += 4) x[i] = b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24);
  let a = h[0], bb = h[1], c = h[2], d = h[3], t;
  const rotate = (v, s) => (v << s) | (v >>> (32 - s));
  for (let i = 0; i < 16; i++) {
    t = (a + ((bb & c) | (~bb & d)) + MD5_K[i] + x[i]) | 0;
    a = d; d = c; c = bb; bb = (bb + rotate(t, MD5_S[i & 3])) | 0;
  }
  for (let i = 16; i < 32; i++) {
    t = (a + ((d & bb) | (~d & c)) + MD5_K[i] + x[(5 * i + 1) & 15]) | 0;
    a = d; d = c; c = bb; bb = (bb + rotate(t, MD5_S[4 + (i & 3)])) | 0;
  }
  for (let i = 32; i < 48; i++) {
    t = (a + (bb ^ c ^ d) + MD5_K[i] + x[(3 * i + 5) & 15]) | 0;
    a = d; d = c; c = bb; bb = (bb + rotate(t, MD5_S[8 + (i & 3)])) | 0;
  }
  for (let i = 48; i < 64; i++) {
    t = (a + (c ^ (bb | ~d)) + MD5_K[i] + x[(7 * i) & 15]) | 0;
    a = d; d = c; c = bb; bb = (bb + rotate(t, MD5_S[12 + (i & 3)])) | 0;
  }
  h[0] = (h[0] + a) | 0; h[1] = (h[1] + bb) | 0; h[2] = (h[2] + c) | 0; h[3] = (h[3] + d) | 0;
}

export function md5Hex(bytes) {
  const h = new Int32Array([0x67452301, 0xefcdab89 | 0, 0x98badcfe | 0, 0x10325476]);
  const x = new Int32Array(16);
  const n = bytes.length;
  const whole = n - (n % 64);
  for (let p = 0; p < whole; p += 64) md5Block(h, bytes, p, x);
  // Padding: 0x80, zeros, then the length in bits (64-bit little-endian) in the last 8 bytes.
  const tail = new Uint8Array(n % 64 < 56 ? 64 : 128);
  tail.set(bytes.subarray(whole));
  tail[n - whole] = 0x80;
  const bits = n * 8; // exact in a double up to 2^53 bits
  for (let i = 0; i < 8; i++) tail[tail.length - 8 + i] = Math.floor(bits / 2 ** (8 * i)) & 0xff;
  for (let p = 0; p < tail.length; p += 64) md5Block(h, tail, p, x);
  let hex = ""; // each state word printed least significant byte first
  for (const word of h) for (let k = 0; k < 32; k += 8) hex += ((word >>> k) & 0xff).toString(16).padStart(2, "0");
  return hex;
}

export async function sha256Hex(bytes) {
  return hexOf(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)));
}

function hexOf(bytes) {
  let s = "";
  for (const v of bytes) s += v.toString(16).padStart(2, "0");
  return s;
}

// ---------------------------------------------------------------------------------------------
// PDQ

const SIDE = 64;
const MIN_HASHABLE_DIM = 5; // as the reference: smaller images hash to zeros with quality 0
const EMPTY = { hash: "0".repeat(64), quality: 0 };
const f32 = Math.fround;

// pdq.axis_kernel(full): two box-filter passes (window ceil(full/128), clipped at the edges) and
// sampling at cell centres, as 64 rows of weights, each non-zero only on a band of < 4 windows.
// Same float64 operations in the same order as the numpy code, then rounded to float32 like it.
// Returns {start, len, width, weights}: output i weighs pixels start[i] .. start[i] + len[i] - 1 by
// weights[i * width ..].
const kernels = new Map(); // by side: a batch of photos from one camera shares two sizes
function axisKernel(full) {
  if (kernels.has(full)) return kernels.get(full);
  if (kernels.size > 32) kernels.clear();
  const w = Math.floor((full + 2 * SIDE - 1) / (2 * SIDE));
  const half = (w + 2) >> 1;
  const clip = (v, lo, hi) => Math.min(Math.max(v, lo), hi);
  const lo = (j) => clip(j - (w - half), 0, full - 1); // first index of the window at j
  const hi = (j) => clip(j + half - 1, 0, full - 1); //   last index
  const count = (j) => hi(j) - lo(j) + 1;
  // prefix[m] = sum of 1/count over 0..m-1, accumulated in order like np.cumsum
  const prefix = new Float64Array(full + 1);
  for (let m = 0; m < full; m++) prefix[m + 1] = prefix[m] + 1 / count(m);
  // The second pass's output j gathers every m whose window holds j: m in [firstM, lastM]
  // (np.searchsorted on the monotone hi and lo arrays).
  const firstM = (j) => Math.max(0, j - half + 1);
  const lastM = (j) => Math.min(full - 1, j + (w - half));
  const start = new Int32Array(SIDE);
  const len = new Int32Array(SIDE);
  for (let i = 0; i < SIDE; i++) {
    const s = Math.floor(((i + 0.5) * full) / SIDE);
    start[i] = lo(lo(s));
    len[i] = hi(hi(s)) - start[i] + 1;
  }
  const width = Math.max(...len);
  const weights = new Float64Array(SIDE * width);
  for (let i = 0; i < SIDE; i++) {
    const s = Math.floor(((i + 0.5) * full) / SIDE);
    const a = lo(s), b = hi(s) + 1;
    for (let t = 0; t < len[i]; t++) {
      const col = start[i] + t;
      const upper = prefix[clip(lastM(col) + 1, a, b)];
      const lower = prefix[clip(firstM(col), a, b)];
      weights[i * width + t] = f32((upper - lower) / count(s));
    }
  }
  const kernel = { start, len, width, weights };
  kernels.set(full, kernel);
  return kernel;
}

// The 16 x 64 DCT-II rows 1..16 (the reference skips the DC row), float32 like pdq._DCT.
const DCT = new Float64Array(16 * SIDE);
for (let i = 0; i < 16; i++) {
  for (let j = 0; j < SIDE; j++) {
    DCT[i * SIDE + j] = f32(Math.sqrt(2.0 / 64) * Math.cos((Math.PI / 2 / 64) * (i + 1) * (2 * j + 1)));
  }
}

// PDQ of an image given row by row: fillRow(y, row) writes the luma of row y into `row`
// (Float64Array of width). Rows are blurred and sampled across as they come, then added into the
// output rows whose vertical band holds them: one pass, memory of one row.
function pdqFromRows(width, height, fillRow) {
  if (width < MIN_HASHABLE_DIM || height < MIN_HASHABLE_DIM) return { ...EMPTY };
  const kx = axisKernel(width), ky = axisKernel(height);
  const row = new Float64Array(width);
  const across = new Float64Array(SIDE); // one row, blurred and sampled horizontally
  const buffer = new Float64Array(SIDE * SIDE);
  let first = 0; // the first output row whose band has not ended above y
  for (let y = 0; y < height; y++) {
    while (first < SIDE && ky.start[first] + ky.len[first] <= y) first++;
    if (first === SIDE) break;
    if (ky.start[first] > y) continue;
    fillRow(y, row);
    for (let j = 0; j < SIDE; j++) {
      const o = j * kx.width, s = kx.start[j], n = kx.len[j];
      let sum = 0;
      for (let t = 0; t < n; t++) sum += kx.weights[o + t] * row[s + t];
      across[j] = sum;
    }
    for (let i = first; i < SIDE && ky.start[i] <= y; i++) {
      const t = y - ky.start[i];
      if (t >= ky.len[i]) continue;
      const weight = ky.weights[i * ky.width + t];
      if (weight === 0) continue;
      const o = i * SIDE;
      for (let j = 0; j < SIDE; j++) buffer[o + j] += weight * across[j];
    }
  }
  for (let k = 0; k < buffer.length; k++) buffer[k] = f32(buffer[k]); // numpy keeps it in float32
  return pdqFromBuffer(buffer);
}

// Quality, DCT and bits of the 64x64 buffer, as quality_metric and bits_from_dct do in float32.
function pdqFromBuffer(b) {
  const scale = f32(100 / 255);
  const step = (d) => Math.abs(Math.trunc(f32(f32(d) * scale)));
  let total = 0;
  for (let i = 0; i < SIDE; i++) {
    for (let j = 0; j < SIDE; j++) {
      if (i < SIDE - 1) total += step(b[i * SIDE + j] - b[(i + 1) * SIDE + j]); // vertical
      if (j < SIDE - 1) total += step(b[i * SIDE + j] - b[i * SIDE + j + 1]); //   horizontal
    }
  }
  const quality = Math.min(100, Math.floor(total / 90));

  const half = new Float64Array(16 * SIDE); // DCT @ buffer
  for (let i = 0; i < 16; i++) {
    for (let j = 0; j < SIDE; j++) {
      let sum = 0;
      for (let k = 0; k < SIDE; k++) sum += DCT[i * SIDE + k] * b[k * SIDE + j];
      half[i * SIDE + j] = f32(sum);
    }
  }
  const dct = new Float64Array(256); // (DCT @ buffer) @ DCT.T, row-major 16 x 16
  for (let i = 0; i < 16; i++) {
    for (let j = 0; j < 16; j++) {
      let sum = 0;
      for (let k = 0; k < SIDE; k++) sum += half[i * SIDE + k] * DCT[j * SIDE + k];
      dct[i * 16 + j] = f32(sum);
    }
  }
  const median = Float64Array.from(dct).sort()[127]; // the 128th smallest, as the reference
  // Bit k is coefficient k above the median; the hex starts with the most significant bit, bit 255.
  let hash = "";
  for (let k = 255; k >= 0; k -= 4) {
    let nibble = 0;
    for (let q = k; q > k - 4; q--) nibble = (nibble << 1) | (dct[q] > median);
    hash += nibble.toString(16);
  }
  return { hash, quality };
}

// Rows of Pillow's L from 8-bit RGB(A/X) pixels at px[origin + y * rowStep + x * colStep + channel].
// The steps let rotated pixels be read in their stored order; r and b are the red and blue offsets.
function pillowLumaRows(px, { origin, colStep, rowStep, r, b }) {
  return (y, row) => {
    let p = origin + y * rowStep;
    for (let x = 0; x < row.length; x++, p += colStep) {
      row[x] = (px[p + r] * 19595 + px[p + 1] * 38470 + px[p + b] * 7471 + 0x8000) >> 16;
    }
  };
}

export function pdqFromRGBA(rgba, width, height) {
  return pdqFromRows(width, height, pillowLumaRows(rgba, { origin: 0, colStep: 4, rowStep: 4 * width, r: 0, b: 2 }));
}

export function pdqFromLuma(luma, width, height) {
  return pdqFromRows(width, height, (y, row) => row.set(luma.subarray(y * width, (y + 1) * width)));
}

// For tests: the pieces that must equal the Python ones exactly.
export const internals = { axisKernel, DCT };

// ---------------------------------------------------------------------------------------------
// Images

// EXIF orientation (1-8) as WebCodecs reports it: VideoFrame.rotation (clockwise) then flip.
const ORIENTATION = { 0: [1, 2], 90: [6, 5], 180: [3, 4], 270: [8, 7] };

// Where stored pixel (x, y) of a w x h image is shown once oriented (EXIF orientation o).
function shownAt(o, x, y, w, h) {
  switch (o) {
    case 2: return [w - 1 - x, y];
    case 3: return [w - 1 - x, h - 1 - y];
    case 4: return [x, h - 1 - y];
    case 5: return [y, x];
    case 6: return [h - 1 - y, x];
    case 7: return [h - 1 - y, w - 1 - x];
    case 8: return [y, w - 1 - x];
    default: return [x, y];
  }
}

// Layout to read the stored w x h image out of 4-byte `pixels` displayed with orientation o.
function storedOrder(o, w, h, pixels) {
  const at = (x, y) => { const [X, Y] = shownAt(o, x, y, w, h); return pixels.offset + Y * pixels.stride + X * 4; };
  const origin = at(0, 0);
  return { origin, colStep: at(1, 0) - origin, rowStep: at(0, 1) - origin, r: pixels.r, b: pixels.b };
}

// Byte offsets of red and blue in the 4-byte RGB frame formats.
const RGB_ORDER = { RGBA: [0, 2], RGBX: [0, 2], BGRA: [2, 0], BGRX: [2, 0] };

// The pixels of a VideoFrame in a 4-byte RGB format as {px, offset, stride, r, b}, else null.
async function framePixels(frame) {
  const order = RGB_ORDER[frame.format];
  if (!order) return null;
  const px = new Uint8Array(frame.allocationSize());
  const [plane] = await frame.copyTo(px);
  return { px, offset: plane.offset, stride: plane.stride, r: order[0], b: order[1] };
}

// Whether a VideoFrame made from an ImageBitmap keeps the stored pixels with the orientation
// beside them (rotation, flip), as Chromium's do, rather than the pixels as displayed.
const FRAMES_KEEP_ORIENTATION = typeof VideoFrame === "function" && "rotation" in VideoFrame.prototype;

// The pixels of an ImageBitmap, {px, offset, stride, r, b, width, height, stored}: through a
// VideoFrame where there are VideoFrames (one copy, alpha as decoded), else through a canvas (which
// premultiplies alpha: semi-transparent pixels lose bits). `stored`: the pixels are in the file's
// order, not turned as displayed.
async function bitmapPixels(bitmap, viaCanvas) {
  if (!viaCanvas && typeof VideoFrame === "function") {
    const frame = new VideoFrame(bitmap, { timestamp: 0 });
    try {
      const pixels = await framePixels(frame);
      const { width, height } = frame.visibleRect;
      if (pixels) return { ...pixels, width, height, stored: FRAMES_KEEP_ORIENTATION };
    } finally {
      frame.close();
    }
  }
  const { width, height } = bitmap;
  const canvas = typeof OffscreenCanvas === "function"
    ? new OffscreenCanvas(width, height)
    : Object.assign(document.createElement("canvas"), { width, height });
  const context = canvas.getContext("2d", { willReadFrequently: true }); // pixels stay in memory
  context.drawImage(bitmap, 0, 0);
  const px = context.getImageData(0, 0, width, height).data;
  return { px, offset: 0, stride: 4 * width, r: 0, b: 2, width, height, stored: false };
}

// The Exif orientation of a JPEG (1 when absent), for browsers without ImageDecoder.
function jpegOrientation(bytes) {
  const u16 = (p, little) => (little ? bytes[p] | (bytes[p + 1] << 8) : (bytes[p] << 8) | bytes[p + 1]);
  const u32 = (p, little) =>
    little ? u16(p, true) + u16(p + 2, true) * 65536 : u16(p, false) * 65536 + u16(p + 2, false);
  if (bytes[0] !== 0xff || bytes[1] !== 0xd8) return 1;
  for (let p = 2; p + 4 <= bytes.length && bytes[p] === 0xff; p += 2 + u16(p + 2, false)) {
    const marker = bytes[p + 1];
    if (marker === 0xda || marker === 0xd9) break; // image data starts: no more metadata
    const isExif = marker === 0xe1 && String.fromCharCode(...bytes.subarray(p + 4, p + 10)) === "Exif\0\0";
    if (!isExif) continue;
    const t = p + 10, little = bytes[t] === 0x49;
    const ifd = t + u32(t + 4, little);
    const entries = u16(ifd, little);
    for (let e = ifd + 2; e < ifd + 2 + 12 * entries && e + 10 <= bytes.length; e += 12) {
      if (u16(e, little) === 0x0112) { const o = u16(e + 8, little); return o >= 1 && o <= 8 ? o : 1; }
    }
    return 1;
  }
  return 1;
}

// The image type from its first bytes (a file's own type may be missing or wrong).
function sniffImageType(b) {
  const ascii = (from, to) => String.fromCharCode(...b.subarray(from, to));
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return "image/jpeg";
  if (ascii(0, 4) === "\x89PNG") return "image/png";
  if (ascii(0, 4) === "GIF8") return "image/gif";
  if (ascii(0, 4) === "RIFF" && ascii(8, 12) === "WEBP") return "image/webp";
  if (ascii(0, 2) === "BM") return "image/bmp";
  if (ascii(4, 8) === "ftyp" && /avi[fs]/.test(ascii(8, 12))) return "image/avif";
  return "";
}

// Decoded pixels in stored order: {px, width, height, layout, decoder, timings}. `choice` "auto",
// or "createImageBitmap" / "canvas" to take the paths of other browsers (tests).
async function decodePixels(file, bytes, choice) {
  const t0 = performance.now();
  let orientation = null;
  const type = sniffImageType(bytes) || file.type;
  // Chromium's ImageDecoder gives lossy JPEG and WebP as YUV (see the top): a decode for nothing
  // where createImageBitmap's frames keep the orientation. It serves every other type.
  const yuvLikely = (type === "image/jpeg" || type === "image/webp") && FRAMES_KEEP_ORIENTATION;
  const useImageDecoder = choice === "auto" && !yuvLikely && typeof ImageDecoder === "function";
  if (useImageDecoder && type && (await ImageDecoder.isTypeSupported(type))) {
    const decoder = new ImageDecoder({ data: bytes, type, colorSpaceConversion: "none", premultiplyAlpha: "none" });
    try {
      const { image } = await decoder.decode().catch((error) => {
        throw new Error(`this browser cannot decode the image (${error.message})`);
      });
      try {
        if (image.rotation !== undefined) orientation = ORIENTATION[image.rotation]?.[image.flip ? 1 : 0] ?? null;
        const t1 = performance.now();
        const pixels = await framePixels(image);
        if (pixels) {
          const { width, height } = image.visibleRect;
          return {
            px: pixels.px, width, height,
            layout: storedOrder(1, width, height, pixels),
            decoder: "ImageDecoder",
            timings: { decode: t1 - t0, pixels: performance.now() - t1 },
          };
        }
      } finally {
        image.close();
      }
    } finally {
      decoder.close();
    }
  }
  // Else decode to RGB with createImageBitmap, which orients the image.
  const t1 = performance.now();
  const options = { colorSpaceConversion: "none", premultiplyAlpha: "none" };
  let bitmap;
  try {
    bitmap = await createImageBitmap(file, { ...options, imageOrientation: "from-image" }).catch((error) => {
      if (error instanceof TypeError) return createImageBitmap(file, options); // predates "from-image"
      throw error;
    });
  } catch (error) {
    throw new Error(`this browser cannot decode the image (${error.message})`);
  }
  const t2 = performance.now();
  let pixels;
  try {
    pixels = await bitmapPixels(bitmap, choice === "canvas");
  } finally {
    bitmap.close();
  }
  // Pixels as displayed need the orientation undone: ImageDecoder's, else the JPEG's Exif.
  const turn = pixels.stored ? 1 : orientation ?? jpegOrientation(bytes);
  const width = turn >= 5 ? pixels.height : pixels.width, height = turn >= 5 ? pixels.width : pixels.height;
  return {
    px: pixels.px, width, height,
    layout: storedOrder(turn, width, height, pixels),
    decoder: choice === "canvas" ? "canvas" : "createImageBitmap",
    timings: { decode: t2 - t0, pixels: performance.now() - t2, imageDecoder: t1 - t0 },
  };
}

function stopwatch() {
  const start = performance.now();
  let last = start;
  const timings = {};
  return {
    lap(name) { const now = performance.now(); timings[name] = now - last; last = now; },
    end() { timings.total = performance.now() - start; return timings; },
  };
}

export async function hashImage(file, { sequential = false, decoder = "auto" } = {}) {
  const clock = stopwatch();
  const bytes = new Uint8Array(await file.arrayBuffer());
  clock.lap("read");
  let md5, sha256, picture;
  if (sequential) { // each stage alone, for a benchmark's breakdown
    md5 = md5Hex(bytes); clock.lap("md5");
    sha256 = await sha256Hex(bytes); clock.lap("sha256");
    picture = await decodePixels(file, bytes, decoder); clock.lap("decode");
  } else { // WebCrypto and the image decoders work off the main thread while MD5 runs on it
    const digest = sha256Hex(bytes);
    const decoding = decodePixels(file, bytes, decoder);
    decoding.catch(() => {}); // awaited below; not an unhandled rejection meanwhile
    md5 = md5Hex(bytes); clock.lap("md5");
    picture = await decoding; clock.lap("decode");
    sha256 = await digest; clock.lap("sha256");
  }
  const { px, width, height, layout } = picture;
  const { hash, quality } = pdqFromRows(width, height, pillowLumaRows(px, layout));
  clock.lap("pdq");
  const timings = { ...clock.end(), decoder: picture.timings };
  return { md5, sha256, pdq: hash, quality, width, height, decoder: picture.decoder, timings };
}

// hashImage in a module Web Worker (worker.js): the page stays responsive during big decodes.
export function createHashWorker(url = new URL("./worker.js", import.meta.url)) {
  const worker = new Worker(url, { type: "module" });
  const pending = new Map();
  let next = 0;
  worker.onmessage = ({ data }) => {
    const call = pending.get(data.id);
    pending.delete(data.id);
    if (data.error) call.reject(new Error(data.error));
    else call.resolve(data.result);
  };
  worker.onerror = (event) => {
    for (const call of pending.values()) call.reject(new Error(event.message || "the hashing worker failed"));
    pending.clear();
  };
  return {
    hashImage(file, options = {}) {
      return new Promise((resolve, reject) => {
        const id = next++;
        pending.set(id, { resolve, reject });
        worker.postMessage({ id, file, options });
      });
    },
    terminate() { worker.terminate(); },
  };
}

// ---------------------------------------------------------------------------------------------
// Videos (main thread only: workers have no <video>)

// Frame timing of the first video track of an MP4/MOV file, from its sample table: FFmpeg's
// average rate (frames x timescale / sum of frame durations, what PyAV's stream.average_rate and so
// Vigil use) and the commonest frame duration in seconds. null for other containers and for
// fragmented MP4, whose moov has no samples.
function mp4Timing(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const name = (p) => String.fromCharCode(bytes[p], bytes[p + 1], bytes[p + 2], bytes[p + 3]);
  const children = (from, to) => {
    const found = [];
    for (let p = from; p + 8 <= to;) {
      let size = view.getUint32(p), header = 8;
      if (size === 1 && p + 16 <= to) { size = Number(view.getBigUint64(p + 8)); header = 16; }
      else if (size === 0) size = to - p;
      if (size < header || p + size > to) break;
      found.push({ type: name(p + 4), start: p + header, end: p + size });
      p += size;
    }
    return found;
  };
  const child = (box, type) => box && children(box.start, box.end).find((b) => b.type === type);
  const moov = children(0, bytes.length).find((b) => b.type === "moov");
  for (const trak of moov ? children(moov.start, moov.end) : []) {
    const mdia = trak.type === "trak" && child(trak, "mdia");
    const hdlr = child(mdia, "hdlr"), mdhd = child(mdia, "mdhd");
    if (!hdlr || !mdhd || name(hdlr.start + 8) !== "vide") continue;
    const timescale = view.getUint32(mdhd.start + (bytes[mdhd.start] === 1 ? 20 : 12));
    const stts = child(child(child(mdia, "minf"), "stbl"), "stts");
    if (!stts || !timescale) return null;
    let frames = 0, length = 0, common = 0, commonCount = 0;
    for (let e = 0, n = view.getUint32(stts.start + 4); e < n; e++) {
      const count = view.getUint32(stts.start + 8 + 8 * e), delta = view.getUint32(stts.start + 12 + 8 * e);
      frames += count;
      length += count * delta;
      if (count > commonCount) [common, commonCount] = [delta, count];
    }
    return frames && length ? { fps: (timescale * frames) / length, frameTime: common / timescale } : null;
  }
  return null;
}

// vPDQ's luma: float32 weights applied in float32, in this order (equal to numpy's rgb @ weights
// for all 2^24 colours).
const W_R = f32(0.299), W_G = f32(0.587), W_B = f32(0.114);
const floatLuma = (r, g, b) => f32(f32(f32(r * W_R) + f32(g * W_G)) + f32(b * W_B));

// Chroma subsampling (x shift, y shift, U and V interleaved) of the 8-bit YUV frame formats.
const YUV = {
  I420: [1, 1, false], I420A: [1, 1, false], I422: [1, 0, false], I444: [0, 0, false], NV12: [1, 1, true],
};

// Rows of vPDQ luma from a YUV frame, converted to RGB exactly as PyAV's to_ndarray("rgb24") does on
// x86: FFmpeg's SIMD yuv2rgb, BT.601 limited range whatever the stream says, chroma repeated, in
// 16-bit fixed point (pmulhw: the high half of a product). Coefficients: round(c x 2^13 / 2^16) of
// swscale's 16.16 ones; checked equal on 10 M pixels of decoded H.264. (Chromium's own conversion
// follows the stream's colour space and rounds otherwise: 1-3 levels off.)
const high = (a, b) => (a * b) >> 16;
function yuvLumaRows(px, planes, [sx, sy, interleaved]) {
  const [Y, U, V] = planes;
  const step = interleaved ? 2 : 1;
  const clamp = (v) => (v < 0 ? 0 : v > 255 ? 255 : v);
  return (y, row) => {
    const yo = Y.offset + y * Y.stride;
    const uo = U.offset + (y >> sy) * U.stride;
    const vo = interleaved ? uo + 1 : V.offset + (y >> sy) * V.stride;
    for (let x = 0; x < row.length; x++) {
      const c = (x >> sx) * step;
      const l = high(px[yo + x] * 8 - 128, 9539), u = px[uo + c] * 8 - 1024, v = px[vo + c] * 8 - 1024;
      row[x] = floatLuma(clamp(l + high(v, 13075)), clamp(l + high(u, -3209) + high(v, -6660)),
        clamp(l + high(u, 16525)));
    }
  };
}

function rgbaFloatLumaRows(rgba, width) {
  return (y, row) => {
    for (let x = 0, p = 4 * y * width; x < row.length; x++, p += 4) {
      row[x] = floatLuma(rgba[p], rgba[p + 1], rgba[p + 2]);
    }
  };
}

// PDQ of the frame the video shows, at its coded size (videoWidth/Height apply the pixel aspect
// ratio; FFmpeg's frames do not).
async function pdqOfShownFrame(video) {
  if (typeof VideoFrame !== "function") return pdqOfDrawing(video, video.videoWidth, video.videoHeight);
  const frame = new VideoFrame(video);
  try {
    const { width, height } = frame.visibleRect;
    if (!YUV[frame.format]) return pdqOfDrawing(frame, width, height); // e.g. 10-bit: the browser converts
    const px = new Uint8Array(frame.allocationSize());
    const planes = await frame.copyTo(px);
    return pdqFromRows(width, height, yuvLumaRows(px, planes, YUV[frame.format]));
  } finally {
    frame.close();
  }
}

function pdqOfDrawing(source, width, height) {
  const canvas = typeof OffscreenCanvas === "function"
    ? new OffscreenCanvas(width, height)
    : Object.assign(document.createElement("canvas"), { width, height });
  const context = canvas.getContext("2d", { willReadFrequently: true });
  context.drawImage(source, 0, 0, width, height);
  return pdqFromRows(width, height, rgbaFloatLumaRows(context.getImageData(0, 0, width, height).data, width));
}

// Resolves once `event` fires; rejects if the video fails first.
function videoEvent(video, event) {
  return new Promise((resolve, reject) => {
    const fail = () => {
      reject(new Error(`this browser cannot decode the video (${video.error?.message || "unsupported"})`));
    };
    video.addEventListener(event, () => { video.removeEventListener("error", fail); resolve(); }, { once: true });
    video.addEventListener("error", fail, { once: true });
  });
}

// Seeks and resolves with the media time of the frame then shown (requestVideoFrameCallback), or
// null where that is not known.
async function seekFrame(video, time) {
  let shown = null, handle = null;
  const painted = new Promise((resolve) => {
    if (!video.requestVideoFrameCallback) return resolve();
    handle = video.requestVideoFrameCallback((now, meta) => { shown = meta.mediaTime; handle = null; resolve(); });
  });
  const seeked = videoEvent(video, "seeked");
  video.currentTime = time;
  await seeked;
  // A seek that lands on the frame already shown paints nothing new: do not wait for it forever.
  await Promise.race([painted, new Promise((resolve) => setTimeout(resolve, 500))]);
  if (handle !== null) video.cancelVideoFrameCallback(handle);
  return shown;
}

// The frame duration seen while the video plays (muted) for up to a second: the mean step between
// the media times of painted frames, a dropped frame counting as two steps. WebM keeps times in
// milliseconds, so the rate it implies is snapped to a standard one within 0.5%.
async function playedFrameTime(video) {
  if (!video.requestVideoFrameCallback) return null;
  const times = [];
  await new Promise((resolve) => {
    const painted = (now, meta) => {
      times.push(meta.mediaTime);
      if (times.length < 12) video.requestVideoFrameCallback(painted);
      else resolve();
    };
    video.requestVideoFrameCallback(painted);
    video.play().catch(resolve);
    setTimeout(resolve, 1000);
  });
  video.pause();
  const steps = times.slice(1).map((t, i) => t - times[i]).filter((d) => d > 1e-4);
  if (!steps.length) return null;
  const shortest = Math.min(...steps);
  const frames = steps.reduce((n, d) => n + Math.round(d / shortest), 0);
  const fps = frames / steps.reduce((sum, d) => sum + d, 0);
  const rates = [24000 / 1001, 30000 / 1001, 60000 / 1001, Math.round(fps)];
  const standard = rates.find((r) => Math.abs(fps / r - 1) < 0.005);
  return 1 / (standard || fps);
}

// vPDQ of a video the browser can play. Frame n of FFmpeg's decoding is found by seeking to the
// middle of its display interval, origin + (n + 0.5) x frame duration, where origin is the media
// time of the first frame and the frame duration comes from the MP4 sample table or, for other
// containers, from a moment of playback; which frame was shown is checked with
// requestVideoFrameCallback. The rate for "one frame every int(fps x secondsPerHash)" and for the
// timestamps is options.fps, else the MP4's average rate (as Vigil's), else 1 / frame duration,
// else 25 (Vigil's default). A variable-rate video, or one whose edit list Chromium reads otherwise
// than FFmpeg, can put a different frame under a number (tests: test_corpus_videos, v2s.mov).
export async function hashVideo(file, options = {}) {
  if (typeof options === "function") options = { onProgress: options };
  const { onProgress, secondsPerHash = 1 } = options;
  const clock = stopwatch();
  const bytes = new Uint8Array(await file.arrayBuffer());
  const digest = sha256Hex(bytes);
  const md5 = md5Hex(bytes);
  clock.lap("md5");
  const mp4 = mp4Timing(bytes);
  const video = document.createElement("video");
  video.muted = true;
  video.preload = "auto";
  const url = URL.createObjectURL(file);
  const vpdq = [];
  let fps = 25, fpsSource = "default", frameTime = null, duration = 0;
  try {
    video.src = url;
    await videoEvent(video, "loadeddata");
    if (!Number.isFinite(video.duration)) { // WebM from MediaRecorder states no length: seeking far finds it
      await seekFrame(video, 1e9);
      if (!Number.isFinite(video.duration)) throw new Error("this browser cannot tell the video's length");
    }
    duration = video.duration;
    frameTime = mp4 ? mp4.frameTime : await playedFrameTime(video);
    if (options.fps > 0) [fps, fpsSource] = [options.fps, "caller"];
    else if (mp4) [fps, fpsSource] = [mp4.fps, "mp4"];
    else if (frameTime) [fps, fpsSource] = [1 / frameTime, "playback"];
    frameTime = frameTime || 1 / fps;
    clock.lap("open");
    const every = secondsPerHash > 0 ? Math.max(1, Math.floor(fps * secondsPerHash)) : 1;
    const expected = Math.max(1, Math.ceil(duration / frameTime / every));
    let origin = 0, last = null;
    for (let n = 0; n === 0 || origin + (n + 0.5) * frameTime < duration; n += every) {
      const shown = await seekFrame(video, origin + (n + 0.5) * frameTime);
      if (n === 0) origin = shown ?? 0;
      else if (shown !== null && shown === last) break; // the video ended before its stated duration
      last = shown;
      const { hash, quality } = await pdqOfShownFrame(video);
      vpdq.push({ frame: n, quality, pdq: hash, timestamp: n / fps });
      if (onProgress) onProgress(vpdq.length, Math.max(expected, vpdq.length));
    }
    clock.lap("frames");
  } finally {
    URL.revokeObjectURL(url);
    video.removeAttribute("src");
    video.load(); // let the media pipeline go
  }
  const sha256 = await digest;
  clock.lap("sha256");
  return { md5, sha256, vpdq, duration, fps, fpsSource, frameTime, timings: clock.end() };
}
