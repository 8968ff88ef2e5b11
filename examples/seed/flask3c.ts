// Port of the seed's flask3c.py: the same as flask3b, with the template values gathered in one object.
import { Carafe } from 'carafe'

const app = new Carafe()

app.get('/', function home(c) {
  return c.render('my_saying_homepage.html')
})

app.get('/subpage/', function subpage(c) {
  const kwargs: Record<string, string> = {}
  // Flask's request.args.get() gives None for a missing argument, and Jinja prints it as "None".
  kwargs.thing = c.query('thing') ?? 'None'
  kwargs.other_thing = c.query('other_thing') ?? 'None'
  return c.render('flask3.html', kwargs)
})

app.run({ port: Number(process.env.PORT ?? 9999), debug: true })
