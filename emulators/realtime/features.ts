import { RATE } from './audio';

/**
 * Compact spectral features for matching spoken utterances: 13 MFCCs (c1..c13) per 10 ms frame from a 25 ms
 * Hann window, mel bands 100 Hz–7 kHz, with cepstral mean normalization so loudness and the Opus round trip
 * do not move the numbers much. Leading and trailing silence is cut first.
 */
const WIN = Math.round(RATE * 0.025);
const HOP = Math.round(RATE * 0.01);
const NFFT = 1024;
const BANDS = 26;
const CEPS = 13;

const hann = Float64Array.from({ length: WIN }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (WIN - 1)));
const melFilters = buildMel();
const dct = Array.from({ length: CEPS }, (_, k) =>
  Float64Array.from({ length: BANDS }, (_, n) => Math.cos((Math.PI * (k + 1) * (n + 0.5)) / BANDS)),
);

function buildMel(): { start: number; weights: Float64Array }[] {
  const mel = (f: number) => 2595 * Math.log10(1 + f / 700);
  const inv = (m: number) => 700 * (10 ** (m / 2595) - 1);
  const lo = mel(100);
  const hi = mel(7000);
  const points = Array.from({ length: BANDS + 2 }, (_, i) =>
    Math.floor(((NFFT + 1) * inv(lo + ((hi - lo) * i) / (BANDS + 1))) / RATE),
  );
  return Array.from({ length: BANDS }, (_, b) => {
    const [l, c, r] = [points[b]!, points[b + 1]!, points[b + 2]!];
    const weights = new Float64Array(r - l + 1);
    for (let k = l; k <= r; k++) weights[k - l] = k <= c ? (k - l) / Math.max(1, c - l) : (r - k) / Math.max(1, r - c);
    return { start: l, weights };
  });
}

/** In-place iterative radix-2 FFT. */
function fft(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j]!, re[i]!];
      [im[i], im[j]] = [im[j]!, im[i]!];
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const ang = (-2 * Math.PI) / len;
    const wr = Math.cos(ang);
    const wi = Math.sin(ang);
    for (let i = 0; i < n; i += len) {
      let cr = 1;
      let ci = 0;
      for (let k = 0; k < len / 2; k++) {
        const a = i + k;
        const b = a + len / 2;
        const tr = re[b]! * cr - im[b]! * ci;
        const ti = re[b]! * ci + im[b]! * cr;
        re[b] = re[a]! - tr;
        im[b] = im[a]! - ti;
        re[a] = re[a]! + tr;
        im[a] = im[a]! + ti;
        const ncr = cr * wr - ci * wi;
        ci = cr * wi + ci * wr;
        cr = ncr;
      }
    }
  }
}

/** Cuts leading/trailing frames quieter than 35 dB under the loudest one (and under an absolute floor). */
function trim(pcm: Int16Array): Int16Array {
  const frames = Math.floor(pcm.length / HOP);
  const energy = new Float64Array(frames);
  let max = 0;
  for (let f = 0; f < frames; f++) {
    let s = 0;
    for (let i = f * HOP; i < (f + 1) * HOP; i++) s += (pcm[i]! / 32768) ** 2;
    energy[f] = s / HOP;
    max = Math.max(max, energy[f]!);
  }
  const floor = Math.max(max * 10 ** -3.5, 1e-6);
  let a = 0;
  let b = frames - 1;
  while (a < frames && energy[a]! < floor) a++;
  while (b > a && energy[b]! < floor) b--;
  if (a >= b) return new Int16Array(0);
  return pcm.subarray(Math.max(0, (a - 2) * HOP), Math.min(pcm.length, (b + 3) * HOP));
}

export function mfcc(input: Int16Array): Float64Array[] {
  const pcm = trim(input);
  const out: Float64Array[] = [];
  const re = new Float64Array(NFFT);
  const im = new Float64Array(NFFT);
  const bands = new Float64Array(BANDS);
  for (let start = 0; start + WIN <= pcm.length; start += HOP) {
    re.fill(0);
    im.fill(0);
    for (let i = 0; i < WIN; i++) re[i] = (pcm[start + i]! / 32768) * hann[i]!;
    fft(re, im);
    for (let b = 0; b < BANDS; b++) {
      const { start: s0, weights } = melFilters[b]!;
      let e = 0;
      for (let k = 0; k < weights.length; k++) e += weights[k]! * (re[s0 + k]! ** 2 + im[s0 + k]! ** 2);
      bands[b] = Math.log(e + 1e-10);
    }
    const c = new Float64Array(CEPS);
    for (let k = 0; k < CEPS; k++) {
      let s = 0;
      for (let n = 0; n < BANDS; n++) s += dct[k]![n]! * bands[n]!;
      c[k] = s;
    }
    out.push(c);
  }
  if (out.length === 0) return out;
  const mean = new Float64Array(CEPS);
  for (const f of out) for (let k = 0; k < CEPS; k++) mean[k]! += f[k]! / out.length;
  for (const f of out) for (let k = 0; k < CEPS; k++) f[k]! -= mean[k]!;
  return out;
}

/** DTW distance between feature sequences, per step of the best path, within a Sakoe-Chiba band. */
export function dtw(a: Float64Array[], b: Float64Array[]): number {
  const n = a.length;
  const m = b.length;
  if (!n || !m) return Infinity;
  if (Math.max(n, m) > 2.2 * Math.min(n, m)) return Infinity;
  const band = Math.max(15, Math.ceil(0.3 * Math.max(n, m)));
  let prev = new Float64Array(m + 1).fill(Infinity);
  let prevLen = new Float64Array(m + 1);
  let cur = new Float64Array(m + 1);
  let curLen = new Float64Array(m + 1);
  prev[0] = 0;
  for (let i = 1; i <= n; i++) {
    cur.fill(Infinity);
    const center = Math.round((i * m) / n);
    const lo = Math.max(1, center - band);
    const hi = Math.min(m, center + band);
    for (let j = lo; j <= hi; j++) {
      const x = a[i - 1]!;
      const y = b[j - 1]!;
      let d = 0;
      for (let k = 0; k < x.length; k++) d += (x[k]! - y[k]!) ** 2;
      d = Math.sqrt(d);
      let best = prev[j - 1]!;
      let len = prevLen[j - 1]!;
      if (prev[j]! < best) {
        best = prev[j]!;
        len = prevLen[j]!;
      }
      if (cur[j - 1]! < best) {
        best = cur[j - 1]!;
        len = curLen[j - 1]!;
      }
      cur[j] = best + d;
      curLen[j] = len + 1;
    }
    [prev, cur] = [cur, prev];
    [prevLen, curLen] = [curLen, prevLen];
  }
  return prev[m]! / Math.max(1, prevLen[m]!);
}
