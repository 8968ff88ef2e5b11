// Port of the seed's flask3a.py: two URL parameters passed to a template.
import { Carafe } from 'carafe'

const app = new Carafe()

app.get('/', function home(c) {
  return c.render('my_saying_homepage.html')
})

app.get('/subpage/<thing>/<other_thing>', function subpage(c) {
  return c.render('flask3.html', { thing: c.params.thing, other_thing: c.params.other_thing })
})

app.run({ port: Number(process.env.PORT ?? 9999), debug: true })
