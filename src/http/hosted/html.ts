/** Markup that is already safe: made only by {@link html}, never from a plain string. */
export class SafeHtml {
  constructor(readonly text: string) {}
  toString(): string { return this.text }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' }

/** Escapes text for an HTML element or a quoted attribute value. Pure. */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, c => ESCAPES[c]!)
}

type Value = string | number | SafeHtml | undefined | null | false | readonly Value[]

const render = (v: Value): string => {
  if (v === undefined || v === null || v === false) return ''
  if (v instanceof SafeHtml) return v.text
  if (Array.isArray(v)) return v.map(render).join('')
  return escapeHtml(String(v))
}

/**
 * Tagged template for the hosted pages: every interpolated value is escaped unless it is
 * itself {@link SafeHtml} (a nested `html` fragment); arrays are joined; undefined, null and
 * false render as nothing.
 */
export function html(strings: TemplateStringsArray, ...values: Value[]): SafeHtml {
  return new SafeHtml(strings.reduce((out, s, i) => out + s + (i < values.length ? render(values[i]!) : ''), ''))
}
