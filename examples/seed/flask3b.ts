// Port of the seed's flask3b.py: the values come from the query string (?thing=…&other_thing=…).
import { Carafe } from 'carafe'

const app = new Carafe()

app.get('/', function home(c) {
  return c.render('my_saying_homepage.html')
})

app.get('/subpage/', function subpage(c) {
  // Flask's request.args.get() gives None for a missing argument, and Jinja prints it as "None".
  const thing = c.query('thing') ?? 'None'
  const other_thing = c.query('other_thing') ?? 'None'
  return c.render('flask3.html', { thing, other_thing })
})

app.run({ port: Number(process.env.PORT ?? 9999), debug: true })
