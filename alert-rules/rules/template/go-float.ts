/**
 * Go's strconv float formatting ('e', 'f', 'g', shortest or with a
 * precision), rounding the exact binary value half to even as Go does.
 */

interface Decimal {
  /** Significant digits without trailing zeros; value is 0.digits × 10^dp. */
  digits: string;
  dp: number;
}

const view = new DataView(new ArrayBuffer(8));

function exactDecimal(x: number): Decimal {
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const biasedExp = Number((bits >> 52n) & 0x7ffn);
  let mantissa = bits & 0xfffffffffffffn;
  let exp2 = biasedExp - 1075;
  if (biasedExp === 0) exp2 = -1074;
  else mantissa |= 1n << 52n;
  let digits: string;
  let dp: number;
  if (exp2 >= 0) {
    digits = (mantissa << BigInt(exp2)).toString();
    dp = digits.length;
  } else {
    digits = (mantissa * 5n ** BigInt(-exp2)).toString();
    dp = digits.length + exp2;
  }
  return trimZeros({ digits, dp });
}

function trimZeros(d: Decimal): Decimal {
  const digits = d.digits.replace(/0+$/, '');
  return digits === '' ? { digits: '', dp: 0 } : { digits, dp: d.dp };
}

function roundTo(d: Decimal, nd: number): Decimal {
  if (nd < 0) return { digits: '', dp: 0 };
  if (nd >= d.digits.length) return d;
  const next = d.digits.charCodeAt(nd) - 48;
  const exactlyHalf = next === 5 && nd + 1 === d.digits.length;
  const up = exactlyHalf ? nd > 0 && (d.digits.charCodeAt(nd - 1) - 48) % 2 === 1 : next >= 5;
  const kept = d.digits.slice(0, nd);
  if (!up) return trimZeros({ digits: kept, dp: d.dp });
  let i = kept.length - 1;
  while (i >= 0 && kept[i] === '9') i--;
  if (i < 0) return { digits: '1', dp: d.dp + 1 };
  return { digits: kept.slice(0, i) + String.fromCharCode(kept.charCodeAt(i) + 1), dp: d.dp };
}

function shortestDecimal(x: number): Decimal {
  const [mantissa = '0', exponent = '0'] = x.toExponential().split('e');
  return trimZeros({ digits: mantissa.replace('.', ''), dp: Number(exponent) + 1 });
}

function formatE(d: Decimal, prec: number, letter: string): string {
  let out = d.digits[0] ?? '0';
  if (prec > 0) out += `.${d.digits.slice(1, prec + 1).padEnd(prec, '0')}`;
  const exp = d.digits === '' ? 0 : d.dp - 1;
  const abs = Math.abs(exp);
  return `${out}${letter}${exp < 0 ? '-' : '+'}${abs < 10 ? `0${abs}` : abs}`;
}

function formatF(d: Decimal, prec: number): string {
  let out = d.dp > 0 ? d.digits.slice(0, d.dp).padEnd(d.dp, '0') : '0';
  if (prec > 0) {
    out += '.';
    for (let i = 0; i < prec; i++) {
      const j = d.dp + i;
      out += j >= 0 && j < d.digits.length ? d.digits[j] : '0';
    }
  }
  return out;
}

/** strconv.FormatFloat(x, format, prec, 64); prec -1 means the shortest exact representation. */
export function formatFloat(x: number, format: 'e' | 'E' | 'f' | 'g' | 'G', prec: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? '+Inf' : '-Inf';
  const sign = x < 0 || Object.is(x, -0) ? '-' : '';
  const abs = Math.abs(x);
  const shortest = prec < 0;
  const lower = format.toLowerCase();
  let d: Decimal;
  if (abs === 0) d = { digits: '', dp: 0 };
  else if (shortest) d = shortestDecimal(abs);
  else {
    const exact = exactDecimal(abs);
    if (lower === 'e') d = roundTo(exact, prec + 1);
    else if (lower === 'f') d = roundTo(exact, exact.dp + prec);
    else d = roundTo(exact, prec === 0 ? 1 : prec);
  }
  const letter = format === 'E' || format === 'G' ? 'E' : 'e';
  if (lower === 'e') return sign + formatE(d, shortest ? Math.max(d.digits.length - 1, 0) : prec, letter);
  if (lower === 'f') return sign + formatF(d, shortest ? Math.max(d.digits.length - d.dp, 0) : prec);
  let p = shortest ? d.digits.length : prec === 0 ? 1 : prec;
  let eprec = p;
  if (eprec > d.digits.length && d.digits.length >= d.dp) eprec = d.digits.length;
  if (shortest) eprec = 6;
  const exp = d.dp - 1;
  if (d.digits !== '' && (exp < -4 || exp >= eprec)) {
    if (p > d.digits.length) p = d.digits.length;
    return sign + formatE(d, p - 1, letter);
  }
  if (p > d.dp) p = d.digits.length;
  return sign + formatF(d, Math.max(p - d.dp, 0));
}
