// Port of the seed's bottle1.py: the home page is a file, sent with static_file.
import { route, run, staticFile } from 'carafe'

route('/', function main() {
  return staticFile('my_saying_homepage.html', { root: '.' })
})

run({ host: 'localhost', port: Number(process.env.PORT ?? 9999) })
