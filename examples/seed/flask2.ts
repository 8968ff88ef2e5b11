// Port of the seed's flask2.py: templates from ./templates, rendered with a URL parameter.
import { Carafe } from 'carafe'

const app = new Carafe()

app.get('/', function home(c) {
  return c.render('my_saying_homepage.html')
})

app.get('/subpage/<thing>', function subpage(c) {
  return c.render('flask2.html', { thing: c.params.thing })
})

app.run({ port: Number(process.env.PORT ?? 9999), debug: true })
