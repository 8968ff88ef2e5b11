// Port of the seed's flask1.py: this folder is the static folder, served at the top of
// the site (static_folder='.', static_url_path=''), and the home page is one of its files.
import { Carafe } from 'carafe'

const app = new Carafe({ static: { dir: '.', prefix: '' } }) // #1

app.get('/', function home() { // #2
  return app.sendStaticFile('my_saying_homepage.html') // #3
})

app.get('/subpage/<thing>', function subpage(c) { // #4
  return `안녕하세요. 여긴 저의 ${c.params.thing} 입니다. 어떻게 이 곳을 잘 찾아오셨군요. `
})

app.run({ port: Number(process.env.PORT ?? 9999), debug: true })
