import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import { consoleMailer, sendMail, smtpMailer } from '../../src/auth/index.js'
import { captureErrors } from '../helpers/capture.js'
import { start } from './helpers.js'

/** What the sink received in one SMTP session. */
interface Received {
  commands: string[]
  data: string
}

/**
 * A tiny SMTP server on 127.0.0.1 (RFC 5321, just enough for one plain-text session: no
 * TLS, no AUTH), so smtpMailer() is tested on the real wire without any network.
 */
async function smtpSink(t: import('node:test').TestContext): Promise<{ port: number; mails: Received[] }> {
  const mails: Received[] = []
  const server = net.createServer((socket) => {
    const mail: Received = { commands: [], data: '' }
    let buffer = ''
    let inData = false
    socket.write('220 sink.test ESMTP\r\n')
    socket.on('data', (chunk) => {
      buffer += chunk.toString('utf8')
      for (;;) {
        if (inData) {
          const end = buffer.indexOf('\r\n.\r\n')
          if (end < 0) return
          mail.data = buffer.slice(0, end)
          buffer = buffer.slice(end + 5)
          inData = false
          mails.push(mail)
          socket.write('250 2.0.0 queued\r\n')
          continue
        }
        const nl = buffer.indexOf('\r\n')
        if (nl < 0) return
        const line = buffer.slice(0, nl)
        buffer = buffer.slice(nl + 2)
        mail.commands.push(line)
        const verb = line.slice(0, 4).toUpperCase()
        if (verb === 'EHLO') socket.write('250-sink.test\r\n250 8BITMIME\r\n')
        else if (verb === 'DATA') { inData = true; socket.write('354 go ahead\r\n') }
        else if (verb === 'QUIT') { socket.end('221 bye\r\n') }
        else socket.write('250 OK\r\n')
      }
    })
    socket.on('error', () => {})
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return { port: (server.address() as net.AddressInfo).port, mails }
}

describe('consoleMailer()', () => {
  it('prints the message (headers, text, HTML) instead of sending it', async () => {
    const lines: string[] = []
    const mailer = consoleMailer({ log: (text) => lines.push(text) })
    await mailer.send({ to: 'kim@example.com', subject: '비밀번호 재설정', text: 'http://localhost/reset/abc', html: '<a href="/reset/abc">reset</a>' })
    assert.equal(lines.length, 1)
    assert.match(lines[0]!, /printed, not sent/)
    assert.match(lines[0]!, /^To: kim@example\.com$/m)
    assert.match(lines[0]!, /^Subject: 비밀번호 재설정$/m)
    assert.match(lines[0]!, /^http:\/\/localhost\/reset\/abc$/m)
    assert.match(lines[0]!, /<a href="\/reset\/abc">reset<\/a>/)
  })

  it('refuses header injection and missing fields', async () => {
    const mailer = consoleMailer({ log: () => {} })
    await assert.rejects(mailer.send({ to: 'a@example.com\r\nBcc: all@example.com', subject: 's', text: 't' }), /line break/)
    await assert.rejects(mailer.send({ to: 'a@example.com', subject: 's\nX: y', text: 't' }), /line break/)
    await assert.rejects(mailer.send({ to: 'a@example.com', subject: 's' } as never), /needs text/)
  })
})

describe('smtpMailer()', () => {
  it('sends through SMTP with nodemailer (a url), UTF-8 subject and body intact', async (t) => {
    const sink = await smtpSink(t)
    const mailer = smtpMailer({ url: `smtp://127.0.0.1:${sink.port}`, transport: { ignoreTLS: true }, from: 'Carafe <noreply@example.com>' })
    t.after(() => mailer.close?.())
    await mailer.send({ to: 'kim@example.com', subject: '비밀번호 재설정', text: '링크: http://localhost/reset/abc', html: '<p>링크</p>' })
    assert.equal(sink.mails.length, 1)
    const [mail] = sink.mails
    assert.ok(mail!.commands.includes('MAIL FROM:<noreply@example.com>'), mail!.commands.join(' | '))
    assert.ok(mail!.commands.includes('RCPT TO:<kim@example.com>'))
    assert.match(mail!.data, /^From: Carafe <noreply@example\.com>$/m)
    assert.match(mail!.data, /^To: kim@example\.com$/m)
    // Non-ASCII headers go out as RFC 2047 encoded words.
    const subject = /^Subject: (.+)$/m.exec(mail!.data)![1]!
    assert.match(subject, /^=\?UTF-8\?[BQ]\?/)
    assert.match(mail!.data, /multipart\/alternative/)
  })

  it('takes transport options instead of a url; the message may name its sender', async (t) => {
    const sink = await smtpSink(t)
    const mailer = smtpMailer({ transport: { host: '127.0.0.1', port: sink.port, secure: false, ignoreTLS: true } })
    t.after(() => mailer.close?.())
    await mailer.send({ from: 'ops@example.com', to: 'a@example.com', subject: 'plain', text: 'hello\r\n.\r\nnot the end' })
    assert.match(sink.mails[0]!.data, /^Subject: plain$/m)
    assert.match(sink.mails[0]!.data, /^\.\.$/m, 'a lone dot is dot-stuffed (RFC 5321 §4.5.2)')
    await assert.rejects(mailer.send({ to: 'a@example.com', subject: 's', text: 't' }), /has no from/, 'neither the message nor the mailer names a sender')
    assert.equal(sink.mails.length, 1, 'and nothing was sent for it')
  })

  it('needs a url or transport options', () => {
    assert.throws(() => smtpMailer({}), /needs a url/)
  })

  it('an unreachable server is a rejected send (the caller decides), not a crash', async () => {
    const closed = net.createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const port = (closed.address() as net.AddressInfo).port
    await new Promise<void>((resolve) => closed.close(() => resolve()))
    const mailer = smtpMailer({ transport: { host: '127.0.0.1', port, ignoreTLS: true, connectionTimeout: 2000 }, from: 'a@example.com' })
    await assert.rejects(mailer.send({ to: 'b@example.com', subject: 's', text: 't' }), /ECONNREFUSED/)
  })
})

describe('sendMail(c, message)', () => {
  it('prints with the console mailer in development when auth() has no mailer, and refuses in production', async (t) => {
    const s = await start(t, { setup: (app) => app.post('/mail', async (c) => { await sendMail(c, { to: 'a@example.com', subject: 'hi', text: 'body' }); return 'sent' }) })
    const original = console.log
    let printed = ''
    console.log = (...a: unknown[]) => { printed += a.join(' ') }
    const env = process.env.NODE_ENV
    try {
      delete process.env.NODE_ENV
      const res = await fetch(`${s.url}/mail`, { method: 'POST' })
      assert.equal(res.status, 200)
      process.env.NODE_ENV = 'production'
      const { value: prod, logged } = await captureErrors(() => fetch(`${s.url}/mail`, { method: 'POST' }))
      assert.equal(prod.status, 500)
      assert.match(logged, /sendMail\(\) has no mailer in production/)
    } finally {
      console.log = original
      if (env === undefined) delete process.env.NODE_ENV
      else process.env.NODE_ENV = env
    }
    assert.match(printed, /To: a@example\.com/)
  })
})
