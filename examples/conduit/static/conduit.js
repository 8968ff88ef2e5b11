// Small improvements over the server-rendered pages, which work without this file:
// favorite and follow without a reload, a confirmation before deleting an article, and new
// comments appearing as they are written (server-sent events from /article/<slug>/live).
'use strict'

document.addEventListener('submit', async (event) => {
  const form = event.target
  if (!(form instanceof HTMLFormElement)) return
  if (form.dataset.confirm !== undefined && !window.confirm(form.dataset.confirm)) {
    event.preventDefault()
    return
  }
  const kind = form.dataset.favorite !== undefined ? 'favorite' : form.dataset.follow !== undefined ? 'follow' : null
  if (kind === null) return
  event.preventDefault()
  const button = form.querySelector('button')
  button.setAttribute('aria-busy', 'true')
  try {
    const res = await fetch(form.action, { method: 'POST', body: new FormData(form), headers: { accept: 'application/json' }, credentials: 'same-origin' })
    if (!res.ok) throw new Error(`HTTP ${res.status}`)
    const state = await res.json()
    const on = kind === 'favorite' ? state.favorited : state.following
    form.querySelector('input[name=on]').value = on ? '0' : '1'
    button.setAttribute('aria-pressed', String(on))
    if (kind === 'favorite') {
      button.classList.toggle('btn-primary', on)
      button.classList.toggle('btn-outline-primary', !on)
      // Every button of this article on the page (the article page shows two).
      for (const count of document.querySelectorAll(`form[action="${CSS.escape(form.getAttribute('action'))}"] .count`)) count.textContent = String(state.favoritesCount)
      const label = button.querySelector('.label')
      if (label) label.textContent = `${on ? 'Unfavorite' : 'Favorite'} Article`
    } else {
      for (const other of document.querySelectorAll(`form[action="${CSS.escape(form.getAttribute('action'))}"]`)) {
        other.querySelector('input[name=on]').value = on ? '0' : '1'
        const b = other.querySelector('button')
        b.classList.toggle('btn-secondary', on)
        b.classList.toggle('btn-outline-secondary', !on)
        b.firstChild.textContent = on ? '✓ Unfollow ' : '+ Follow '
      }
    }
  } catch {
    form.submit() // the page way: a redirect back here
  } finally {
    button.removeAttribute('aria-busy')
  }
})

// ---- live comments ------------------------------------------------------------------------
const section = document.querySelector('[data-live]')
if (section && 'EventSource' in window) {
  const list = section.querySelector('.comment-list')
  const dates = new Intl.DateTimeFormat('en-US', { month: 'long', day: 'numeric', year: 'numeric', timeZone: 'UTC' })
  const avatarUrl = document.querySelector('link[rel=stylesheet]').href.replace(/conduit\.css.*$/, 'avatar.svg')
  const source = new EventSource(section.dataset.live)
  source.addEventListener('comment', (e) => {
    const m = JSON.parse(e.data)
    if (document.getElementById(`comment-${m.id}`)) return
    const li = document.createElement('li')
    li.className = 'card new'
    li.id = `comment-${m.id}`
    li.dataset.id = String(m.id)
    const p = document.createElement('p')
    p.className = 'card-text'
    p.textContent = m.body
    const footer = document.createElement('div')
    footer.className = 'card-footer'
    const a = document.createElement('a')
    a.className = 'comment-author'
    a.href = `/profile/${encodeURIComponent(m.author.username)}`
    const img = document.createElement('img')
    img.className = 'avatar small'
    img.alt = ''
    img.src = m.author.image || avatarUrl
    a.append(img, ` ${m.author.username}`)
    const time = document.createElement('time')
    time.dateTime = m.createdAt
    time.textContent = dates.format(new Date(m.createdAt))
    footer.append(a, time)
    li.append(p, footer)
    list.prepend(li)
  })
  source.addEventListener('uncomment', (e) => {
    const { id } = JSON.parse(e.data)
    document.getElementById(`comment-${id}`)?.remove()
  })
  window.__conduitLive = source
}
