// Money as the API speaks it: integer minor units. Shown and parsed with
// integer arithmetic only ("12.34" is split at the dot, never multiplied
// as a float), so what the person typed is exactly what is sent.

const EXPONENT = { JPY: 0 };
const SYMBOL = { USD: "$", EUR: "€", GBP: "£", JPY: "¥" };
export const AMOUNT_MAX = 1_000_000_000_000; // API.md: at most 10^12

function exponent(currency) {
  return EXPONENT[currency] ?? 2;
}

function groupThousands(digits) {
  const out = [];
  for (let end = digits.length; end > 0; end -= 3) out.unshift(digits.slice(Math.max(0, end - 3), end));
  return out.join(",");
}

/** 123456 USD -> "$1,234.56"; -5 -> "−$0.05". `minor` is an integer. */
export function formatMoney(minor, currency = "USD") {
  const value = BigInt(minor);
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString();
  const exp = exponent(currency);
  const padded = digits.padStart(exp + 1, "0");
  const whole = padded.slice(0, padded.length - exp) || "0";
  const frac = exp ? "." + padded.slice(padded.length - exp) : "";
  const symbol = SYMBOL[currency] ?? currency + " ";
  return (negative ? "−" : "") + symbol + groupThousands(whole) + frac;
}

/** A money object {amount, currency} as text. */
export function money(m) {
  return m ? formatMoney(m.amount, m.currency) : "";
}

/** "12.34", "$1,000", "0.5", "۱۲٫۵" -> minor units (1234, 100000, 50, 1250). Throws an
 * Error with a message for the person when the text is not an amount. */
export function parseAmount(text, currency = "USD") {
  const exp = exponent(currency);
  const cleaned = String(text).trim()
    .replace(/[\u06F0-\u06F9]/g, (d) => String(d.charCodeAt(0) - 0x06F0)) // Persian digits
    .replace(/[\u0660-\u0669]/g, (d) => String(d.charCodeAt(0) - 0x0660)) // Arabic-Indic digits
    .replace(/\u066B/g, ".").replace(/\u066C/g, ",") // Arabic decimal and thousands separators
    .replace(/^\$/, "").replace(/,/g, "");
  const pattern = exp ? new RegExp(`^(\\d{1,13})(?:\\.(\\d{0,${exp}}))?$`) : /^(\d{1,13})$/;
  const match = pattern.exec(cleaned);
  if (!match) {
    throw new Error(exp ? "Enter an amount like 12.34 (at most two decimals)." : "Enter a whole amount.");
  }
  const whole = BigInt(match[1]);
  const frac = BigInt((match[2] || "").padEnd(exp, "0") || "0");
  const minor = whole * 10n ** BigInt(exp) + frac;
  if (minor <= 0n) throw new Error("Enter an amount above zero.");
  if (minor > BigInt(AMOUNT_MAX)) throw new Error("That amount is too large.");
  return Number(minor); // at most 10^12: exact in a double
}

/** Basis points as a percentage: 450 -> "4.50%". */
export function formatBps(bps) {
  const value = BigInt(bps);
  const sign = value < 0n ? "−" : "";
  const abs = value < 0n ? -value : value;
  return `${sign}${abs / 100n}.${(abs % 100n).toString().padStart(2, "0")}%`;
}

/** Accrued interest in micro-cents, shown to 1/10,000 of a dollar (truncated). */
export function formatMicros(micros, currency = "USD") {
  const value = BigInt(micros);
  const negative = value < 0n;
  const tenThousandths = (negative ? -value : value) / 10000n; // 10^8 micro-cents a dollar
  const whole = (tenThousandths / 10000n).toString();
  const frac = (tenThousandths % 10000n).toString().padStart(4, "0");
  return (negative ? "−" : "") + (SYMBOL[currency] ?? currency + " ") + groupThousands(whole) + "." + frac;
}
