// Article bodies are Markdown, rendered on the server into HTML that is safe to put in a
// page: raw HTML in the source is shown as text (html: false), and links or images with a
// javascript:, vbscript: or data: URL (but data:image/png|gif|jpeg|webp) are left as text
// by markdown-it's link check. No attribute of the output comes from the author except
// link and image URLs, which are escaped.
import MarkdownIt from 'markdown-it'

const md = new MarkdownIt({ html: false, linkify: true, typographer: true })

// Links to other sites open normally but do not hand them this page (rel=noopener) or ask
// search engines to rank them (ugc).
const defaultLink = md.renderer.rules.link_open ?? ((tokens, idx, options, _env, self) => self.renderToken(tokens, idx, options))
md.renderer.rules.link_open = (tokens, idx, options, env, self) => {
  const token = tokens[idx]!
  const href = String(token.attrGet('href') ?? '')
  if (/^https?:\/\//i.test(href)) token.attrSet('rel', 'nofollow ugc noopener')
  return defaultLink(tokens, idx, options, env, self)
}
// Pictures load lazily, so a long article does not fetch them all at once.
const defaultImage = md.renderer.rules.image!
md.renderer.rules.image = (tokens, idx, options, env, self) => {
  tokens[idx]!.attrSet('loading', 'lazy')
  return defaultImage(tokens, idx, options, env, self)
}

/** Markdown → safe HTML. */
export function renderMarkdown(source: string): string {
  return md.render(source)
}
