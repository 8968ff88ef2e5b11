// The room page: one WebSocket to /ws/<room>; messages from it are appended, the form sends.
(() => {
  const list = document.getElementById('messages')
  const status = document.getElementById('status')
  const form = document.getElementById('say')
  const room = list.dataset.room
  let socket
  const add = (from, text) => {
    const li = document.createElement('li')
    const b = document.createElement('b')
    b.textContent = from
    li.append(b, ' ', text) // text nodes: nothing a message says is HTML
    list.append(li)
    li.scrollIntoView({ block: 'end' })
  }
  const connect = () => {
    socket = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws/${room}`)
    socket.onopen = () => { status.textContent = 'Connected.' }
    socket.onmessage = (e) => {
      const m = JSON.parse(e.data)
      if (m.hello !== undefined) return
      add(m.from, m.text)
    }
    socket.onclose = (e) => {
      // 1008: signed out (or not allowed): back to the home page; otherwise try again soon.
      if (e.code === 1008) return void location.assign('/')
      status.textContent = 'Disconnected; reconnecting…'
      setTimeout(connect, 1000)
    }
  }
  form.addEventListener('submit', (e) => {
    e.preventDefault()
    const input = form.elements.text
    if (socket.readyState === WebSocket.OPEN && input.value.trim() !== '') socket.send(input.value)
    input.value = ''
  })
  connect()
})()
