import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';

/**
 * JPEG decoding in WebAssembly (mozjpeg, `@jsquash/jpeg`) on the calling thread: about 2× faster than a sharp call
 * for a MARS-sized frame (libvips' fixed cost per image dominates at 256×128) and synchronous, so a frame worker
 * decodes and augments without the libuv pool. Same library family as sharp's decoder (mozjpeg, islow IDCT, fancy
 * upsampling): output bytes equal sharp's (tests compare both, and PIL's fixtures).
 * Only plain baseline/progressive YCbCr JPEGs take this path; anything else, and any decoder warning or error, is
 * left to sharp (see {@link isPlainJpeg}, `decodeImage`), so errors stay sharp's typed errors naming the file.
 */

interface DecodedRgba {
  readonly data: Uint8ClampedArray;
  readonly width: number;
  readonly height: number;
}

/** The emscripten module of `@jsquash/jpeg`: `decode` runs synchronously. */
interface MozjpegModule {
  decode(buffer: ArrayBuffer, preserveOrientation: boolean): DecodedRgba | null;
}

/** The parts of the WebAssembly global used here (not in this package's `lib`). */
interface WasmApi {
  compile(bytes: Uint8Array): Promise<object>;
  Instance: new (module: object, imports: object) => { exports: object };
}
const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

const warnings: string[] = [];
let decoder: Promise<MozjpegModule> | undefined;

function loadDecoder(): Promise<MozjpegModule> {
  decoder ??= (async () => {
    const factory = (
      (await import('@jsquash/jpeg/codec/dec/mozjpeg_dec.js')) as unknown as {
        default: (options: Record<string, unknown>) => Promise<MozjpegModule>;
      }
    ).default;
    const require = createRequire(import.meta.url);
    const wasm = await wasmApi.compile(await readFile(require.resolve('@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm')));
    return factory({
      noInitialRun: true,
      instantiateWasm: (imports: object, callback: (instance: { exports: object }) => void) => {
        const instance = new wasmApi.Instance(wasm, imports);
        callback(instance);
        return instance.exports;
      },
      // libjpeg warnings (e.g. "Premature end of JPEG file") go to stderr = printErr: collected, never printed.
      printErr: (message: string) => warnings.push(message),
      print: () => undefined,
    });
  })();
  return decoder;
}

/**
 * True for a JPEG (SOI) with 3 components (YCbCr), no ICC profile (APP2, which sharp would apply) and no Adobe
 * APP14 marker (colour transform flags), ending with EOI: the files whose decoded bytes are the same in mozjpeg-wasm
 * and sharp.
 */
export function isPlainJpeg(bytes: Uint8Array): boolean {
  const length = bytes.length;
  if (length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return false;
  if (bytes[length - 2] !== 0xff || bytes[length - 1] !== 0xd9) return false;
  let position = 2;
  let components = 0;
  while (position + 4 <= length) {
    if (bytes[position] !== 0xff) return false;
    const marker = bytes[position + 1] as number;
    if (marker === 0xff) {
      position++;
      continue;
    }
    if (marker === 0xda) return components === 3; // start of scan: header done
    const size = ((bytes[position + 2] as number) << 8) | (bytes[position + 3] as number);
    const body = position + 4;
    if (marker === 0xe2 || marker === 0xee) return false; // APP2 (ICC) / APP14 (Adobe)
    const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isFrame) {
      if (marker !== 0xc0 && marker !== 0xc1 && marker !== 0xc2) return false; // Huffman baseline/extended/progressive only
      if ((bytes[body] as number) !== 8) return false; // 8-bit samples
      components = bytes[body + 5] as number;
    }
    position += 2 + size;
  }
  return false;
}

/**
 * Decodes a {@link isPlainJpeg} file to uint8 RGB, or returns undefined when the decoder warned or failed (the caller
 * then uses sharp, which reports the file's problem).
 */
export async function decodePlainJpeg(
  bytes: Uint8Array,
): Promise<{ data: Uint8Array; width: number; height: number } | undefined> {
  const module = await loadDecoder();
  // decode, then read the warnings, in one synchronous block: no other decode can interleave
  warnings.length = 0;
  let image: DecodedRgba | null;
  try {
    image = module.decode(
      bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
      false,
    );
  } catch {
    return undefined;
  }
  if (!image || warnings.length > 0) return undefined;
  const pixels = image.width * image.height;
  const rgba = image.data;
  const data = new Uint8Array(pixels * 3);
  for (let source = 0, target = 0; target < data.length; source += 4, target += 3) {
    data[target] = rgba[source] as number;
    data[target + 1] = rgba[source + 1] as number;
    data[target + 2] = rgba[source + 2] as number;
  }
  return { data, width: image.width, height: image.height };
}
