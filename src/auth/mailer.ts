import { createRequire } from 'node:module'
import type { Transporter } from 'nodemailer'
import type { Context } from '../core/context.js'
import { CarafeError } from '../core/errors.js'
import { runtimeOf } from './runtime.js'

/** One email. */
export interface MailMessage {
  to: string
  subject: string
  /** The plain-text body (always sent: some clients show nothing else). */
  text: string
  /** An HTML alternative. */
  html?: string
  /** The sender. @default the mailer's `from` */
  from?: string
}

/**
 * Something that sends email: {@link consoleMailer} in development, {@link smtpMailer} in
 * production, or your own (an HTTP API such as SES or Postmark) with the same method.
 */
export interface Mailer {
  send(message: MailMessage): Promise<void>
  /** Release connections (an SMTP pool); called by nobody but you. */
  close?(): Promise<void>
}

/** Options for {@link consoleMailer}. */
export interface ConsoleMailerOptions {
  /** Where the printed message goes. @default console.log */
  log?: (text: string) => void
}

/**
 * A mailer that prints each message instead of sending it: the development default, so a
 * password-reset link can be copied from the terminal.
 *
 * @example
 * app.use(auth({ loadUser, mailer: consoleMailer() }))
 */
export function consoleMailer(options: ConsoleMailerOptions = {}): Mailer {
  const log = options.log ?? ((text: string) => console.log(text))
  return {
    async send(message) {
      checkMessage(message)
      const lines = [
        '[carafe] consoleMailer: this email was printed, not sent (use smtpMailer() to send it)',
        ...(message.from === undefined ? [] : [`From: ${message.from}`]),
        `To: ${message.to}`,
        `Subject: ${message.subject}`,
        '',
        message.text,
      ]
      if (message.html !== undefined) lines.push('', '--- HTML ---', message.html)
      log(lines.join('\n'))
    },
  }
}

/** Connection options for {@link smtpMailer}: nodemailer's SMTP transport options (the common ones typed). */
export interface SmtpTransportOptions {
  host?: string
  /** @default 587, or 465 with `secure` */
  port?: number
  /** TLS from the start (port 465); otherwise STARTTLS when the server offers it. @default false */
  secure?: boolean
  auth?: { user: string; pass: string }
  /** Any other nodemailer SMTP option (`pool`, `tls`, `requireTLS`, `ignoreTLS`, timeouts …). */
  [option: string]: unknown
}

/** Options for {@link smtpMailer}: a URL or transport options, and a default sender. */
export interface SmtpMailerOptions {
  /** `smtp://user:pass@host:587` or `smtps://…:465`. */
  url?: string
  /** Transport options, instead of (or on top of) `url`. */
  transport?: SmtpTransportOptions
  /** The default `From`. @default none: each message must name one */
  from?: string
}

/**
 * A mailer that sends through SMTP with nodemailer (an optional peer dependency: install it
 * with `npm install nodemailer`; it is loaded at the first message, not at startup).
 *
 * @example
 * const mailer = smtpMailer({ url: process.env.SMTP_URL, from: 'Carafe <noreply@example.com>' })
 */
export function smtpMailer(options: SmtpMailerOptions): Mailer {
  if (options.url === undefined && options.transport === undefined) throw new TypeError('smtpMailer needs a url (smtp://user:pass@host:587) or transport options')
  let transporter: Transporter | null = null
  const transport = (): Transporter => {
    if (transporter !== null) return transporter
    const nodemailer = loadNodemailer()
    const opts: Record<string, unknown> = { ...(options.url === undefined ? {} : { url: options.url }), ...options.transport }
    transporter = nodemailer.createTransport(opts) as Transporter
    return transporter
  }
  return {
    async send(message) {
      checkMessage(message)
      const from = message.from ?? options.from
      if (from === undefined) throw new TypeError('smtpMailer: the message has no from; give one, or smtpMailer({ from })')
      await transport().sendMail({ from, to: message.to, subject: message.subject, text: message.text, html: message.html })
    },
    async close() {
      transporter?.close()
      transporter = null
    },
  }
}

function loadNodemailer(): typeof import('nodemailer') {
  try {
    return createRequire(import.meta.url)('nodemailer') as typeof import('nodemailer')
  } catch (e) {
    if ((e as { code?: unknown }).code === 'MODULE_NOT_FOUND') {
      throw new CarafeError('ERR_NO_NODEMAILER', 'npm install nodemailer to use smtpMailer() (it is an optional dependency of carafe)')
    }
    throw e
  }
}

function checkMessage(m: MailMessage): void {
  for (const k of ['to', 'subject', 'text'] as const) {
    if (typeof m[k] !== 'string') throw new TypeError(`a mail message needs ${k} (a string)`)
  }
  // A header value with a line break would start a header of the attacker's choosing.
  for (const k of ['to', 'subject', 'from'] as const) {
    if (typeof m[k] === 'string' && /[\r\n]/.test(m[k]!)) throw new TypeError(`mail ${k} must not contain a line break`)
  }
}

/** The development default, made once. */
let devMailer: Mailer | null = null

/**
 * Send `message` with the mailer given to `auth({ mailer })`; without one, print it with
 * {@link consoleMailer} in development, and refuse (`ERR_NO_MAILER`) when
 * `NODE_ENV=production`, where a reset link printed to a log would be a leak and a lost mail.
 *
 * @example
 * await sendMail(c, { to: user.email, subject: 'Reset your password', text: link })
 */
export function sendMail(c: Context<unknown>, message: MailMessage): Promise<void> {
  const mailer = runtimeOf(c, 'sendMail()').config.mailer
  if (mailer !== undefined) return mailer.send(message)
  if (process.env.NODE_ENV === 'production') {
    return Promise.reject(new CarafeError('ERR_NO_MAILER', "sendMail() has no mailer in production: auth({ loadUser, mailer: smtpMailer({ url: process.env.SMTP_URL, from: 'noreply@example.com' }) })"))
  }
  return (devMailer ??= consoleMailer()).send(message)
}
