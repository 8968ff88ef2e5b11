// Port of the seed's bottle2.py: a home page from a file, and a page per <thing>.
import { route, run, staticFile } from 'carafe'

route('/', function home() {
  return staticFile('my_saying_homepage.html', { root: '.' })
})

route('/subpage/<thing>', function subpage({ params }) {
  return `안녕하세요. 여긴 저의 ${params.thing} 입니다. 어떻게 이 곳을 잘 찾아오셨군요. `
})

run({ host: 'localhost', port: Number(process.env.PORT ?? 9999) })
