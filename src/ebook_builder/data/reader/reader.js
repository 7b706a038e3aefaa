// Opens the book whose address the page's query names (`?book=/files/x.epub`) in
// foliate-js's <foliate-view>, one page at a time, with buttons and keys to turn pages.
// foliate-js tells a book's format from its bytes (a zip is an EPUB or KEPUB, the rest is
// tried as MOBI/KF8), so the same page shows every format we write.
// Around the book: a device frame, a theme and a text size (kept in localStorage, so they
// survive reloads and the format switch), and a panel listing the contents and the print
// pages.
// With `live` in the query (as `ebook preview` opens it), the page follows the builds: after
// a good one it reopens the new book in place where the reader was; after a failed one it
// shows the problems over the last good book, which stays open.
import { makeBook } from './foliate-js/view.js'

const view = document.querySelector('foliate-view')
const place = document.getElementById('place')
const query = new URLSearchParams(window.location.search)
const address = query.get('book')
// Where the reader is (an EPUB CFI), kept for the tab's life: a reload reopens there.
const placeKey = `ebook-preview-place:${address}`
const settingsKey = 'ebook-preview-settings'

// The text sizes offered, in percent of the book's own: a reading app's usual steps.
const FONT_SIZES = [75, 90, 100, 115, 130, 150, 175, 200]
// Sepia and night recolour every element, as reading apps do (a book's own colours would
// be dark on dark at night); day shows the book's own colours. Links keep a colour of
// their own so they stay visible.
const THEMES = {
    day: null,
    sepia: { background: '#f4ecd8', text: '#5b4636', link: '#8a4b08' },
    night: { background: '#121212', text: '#e0e0e0', link: '#8ab4f8' },
}
// The devices' screens in CSS pixels, portrait, as each device's browser reports them.
const DEVICES = {
    // iPhone 15 (6.1″, 1179 × 2556 pixels at a device pixel ratio of 3).
    phone: { width: 393, height: 852 },
    // Kindle Paperwhite 2021 (6.8″, 1236 × 1648 at 300 ppi; a Kobo Libra's 7″ is alike),
    // at a phone's density, a ratio of 2.
    eink: { width: 618, height: 824 },
    // iPad, 10th generation (10.9″, 1640 × 2360 pixels at a ratio of 2).
    tablet: { width: 820, height: 1180 },
}
// foliate-js's own page margin and line length (paginator.js), scaled with a device frame.
const MARGIN_PX = 48
const MAX_INLINE_SIZE_PX = 720

// The window, not a device, by default: the preview is first a place to read the book at
// the window's size; a device's screen is a check one makes (and a small one, scaled down
// in a laptop's window, is hard to read).
const DEFAULTS = { device: 'fit', theme: 'day', fontSize: 100 }

const loadSettings = () => {
    const saved = JSON.parse(localStorage.getItem(settingsKey) ?? '{}')
    return {
        device: saved.device in DEVICES ? saved.device : DEFAULTS.device,
        theme: saved.theme in THEMES ? saved.theme : DEFAULTS.theme,
        fontSize: FONT_SIZES.includes(saved.fontSize) ? saved.fontSize : DEFAULTS.fontSize,
    }
}
const settings = loadSettings()

// The theme and text size as CSS for the book's own documents, which foliate-js keeps in
// iframes inside closed shadow roots: only its renderer's setStyles reaches them. Rules
// are !important to win over the book's stylesheet; `--theme-bg-color` is the colour
// foliate-js paints around the page.
const bookCSS = ({ theme, fontSize }, scale) => {
    const size = `html { font-size: ${fontSize * scale}% !important; }`
    const colours = THEMES[theme]
    if (!colours) return size
    const { background, text, link } = colours
    return `${size}
html { --theme-bg-color: ${background}; color-scheme: ${theme === 'night' ? 'dark' : 'light'}; }
html, body { background-color: ${background} !important; color: ${text} !important; }
body * { color: inherit !important; background-color: transparent !important; }
a:any-link, a:any-link * { color: ${link} !important; }`
}

// A device larger than the window is drawn smaller, `scale` of its size. Not with a CSS
// transform: foliate-js measures its box with getBoundingClientRect, which a transform
// shrinks, and would lay pages out for the wrong width. The screen is drawn at the scaled
// size, and the text size and foliate's margins are scaled with it, so that the lines and
// pages break as on the device (the book's lengths are in em), give or take rounding.
const stage = document.getElementById('stage')
const frame = document.getElementById('device-frame')
let scale = 1

const styleBook = () => {
    view.style.backgroundColor = THEMES[settings.theme]?.background ?? ''  // around the page
    view.renderer?.setStyles(bookCSS(settings, scale))
    view.renderer?.setAttribute('margin', `${MARGIN_PX * scale}px`)
    view.renderer?.setAttribute('max-inline-size', `${MAX_INLINE_SIZE_PX * scale}px`)
}

const layOut = () => {
    const device = DEVICES[settings.device]
    frame.dataset.device = device ? settings.device : 'fit'
    frame.style.width = frame.style.height = ''
    scale = 1
    if (device) {
        const bezelWidth = frame.offsetWidth - view.offsetWidth
        const bezelHeight = frame.offsetHeight - view.offsetHeight
        scale = Math.min(1, (stage.clientWidth - bezelWidth) / device.width,
            (stage.clientHeight - bezelHeight) / device.height)
        frame.style.width = `${device.width * scale}px`
        frame.style.height = `${device.height * scale}px`
    }
    styleBook()
}
new ResizeObserver(layOut).observe(stage)

const fontSizeShown = document.getElementById('font-size')
const applySettings = () => {
    localStorage.setItem(settingsKey, JSON.stringify(settings))
    fontSizeShown.value = `${settings.fontSize}%`
    layOut()
}

const offerSettings = () => {
    for (const name of ['device', 'theme']) {
        const select = document.getElementById(name)
        select.value = settings[name]
        select.addEventListener('change', () => {
            settings[name] = select.value
            applySettings()
        })
    }
    const step = by => () => {
        const index = FONT_SIZES.indexOf(settings.fontSize) + by
        settings.fontSize = FONT_SIZES[Math.max(0, Math.min(FONT_SIZES.length - 1, index))]
        applySettings()
    }
    document.getElementById('smaller').addEventListener('click', step(-1))
    document.getElementById('larger').addEventListener('click', step(1))
    applySettings()
}

// The contents panel: the book's table of contents (nested) and its page list (the print
// edition's page numbers), each entry going to its place; the entries of the reader's
// place are marked as current.
const contents = document.getElementById('contents')
const toggle = document.getElementById('contents-toggle')
toggle.addEventListener('click', () => {
    contents.hidden = !contents.hidden
    toggle.setAttribute('aria-expanded', String(!contents.hidden))
})
const entries = new Map()  // href -> its button, in both lists

const listOf = items => {
    const list = document.createElement('ol')
    for (const { label, href, subitems } of items) {
        const item = document.createElement('li')
        const button = document.createElement('button')
        button.type = 'button'
        button.textContent = label
        button.addEventListener('click', () => view.goTo(href))
        entries.set(href, button)
        item.append(button)
        if (subitems?.length) item.append(listOf(subitems))
        list.append(item)
    }
    return list
}

const listContents = ({ toc, pageList }) => {
    entries.clear()
    for (const [nav, items] of [['Table of contents', toc], ['Page list', pageList]]) {
        const panel = contents.querySelector(`nav[aria-label="${nav}"]`)
        panel.replaceChildren(listOf(items ?? []))
        panel.hidden = !items?.length
    }
}

const markCurrent = current => {
    for (const button of entries.values()) button.removeAttribute('aria-current')
    for (const item of current) entries.get(item?.href)?.setAttribute('aria-current', 'location')
}

// Arrow keys turn pages the way the book reads (left is back in a left-to-right book,
// forward in a right-to-left one); Page Up/Down always go back and forward.
const KEYS = {
    ArrowLeft: () => view.goLeft(),
    ArrowRight: () => view.goRight(),
    PageUp: () => view.prev(),
    PageDown: () => view.next(),
}

const onKey = event => {
    const turn = KEYS[event.key]
    if (!turn || event.target.closest?.('select')) return
    event.preventDefault()
    turn()
}

// A book's page is a document in an iframe: its key presses never reach ours, so each
// page's document gets the same handler as the reader's own.
view.addEventListener('load', ({ detail: { doc } }) => doc.addEventListener('keydown', onKey))

// What the reader shows under the page: the chapter's title and how far into the book.
view.addEventListener('relocate', ({ detail: { cfi, fraction, tocItem, pageItem } }) => {
    if (cfi) sessionStorage.setItem(placeKey, cfi)
    const percent = `${Math.round((fraction ?? 0) * 100)}%`
    place.textContent = tocItem?.label ? `${tocItem.label} · ${percent}` : percent
    markCurrent([tocItem, pageItem])
})

// foliate-js gives a title as a string, or as a map of languages to strings.
const titleOf = metadata => {
    const title = metadata?.title
    return typeof title === 'string' ? title : Object.values(title ?? {})[0]
}

const showProblem = message => {
    const problem = document.createElement('p')
    problem.id = 'problem'
    problem.setAttribute('role', 'alert')
    problem.textContent = message
    view.replaceWith(problem)
}

// Shows a book at a place (a CFI), else where the text starts (the book's bodymatter
// landmark), as a reading app does.
const show = async (book, last) => {
    view.close()
    view.book?.destroy?.()  // its pictures and stylesheets, held as blob: addresses
    await view.open(book)
    view.renderer.setAttribute('flow', 'paginated')
    styleBook()
    document.title = `${titleOf(book.metadata) ?? address} · ebook preview`
    listContents(book)
    await view.init(last ? { lastLocation: last } : { showTextStart: true })
}

// Each finished build, as `ebook preview` sends it (the EPUB first, the other formats
// next): after a good one that made this page's file, the new book is fetched and read
// while the old one stays shown, then opened in its place at the reader's place (the
// page, its modules and settings stay: quicker than a reload); a failed one's problems
// are listed above the book. Builds are shown in turn.
const follow = () => {
    const problems = document.getElementById('problems')
    let shown = Promise.resolve()
    new EventSource('/events').onmessage = event => {
        const build = JSON.parse(event.data)
        problems.hidden = build.ok
        if (!build.ok) problems.textContent = build.problems.join('\n')
        else if (build.files.includes(address)) {
            shown = shown.then(async () => show(await makeBook(address), view.lastLocation?.cfi))
                .catch(error => {
                    problems.textContent = `Cannot open ${address}: ${error.message}`
                    problems.hidden = false
                })
        }
    }
}

// The formats the page may switch between (`format=AZW3:/files/x.azw3`, as `ebook preview`
// lists them): a choice opens that file in the same page, following the builds as before.
const offerFormats = () => {
    const formats = query.getAll('format').map(entry => entry.split(/:(.*)/s))
    if (formats.length < 2) return
    const select = document.createElement('select')
    select.id = 'format'
    select.setAttribute('aria-label', 'Format')
    for (const [label, file] of formats) select.add(new Option(label, file, false, file === address))
    select.addEventListener('change', () => {
        query.set('book', select.value)
        window.location.search = query.toString()
    })
    toggle.after(select)
}

const open = async () => {
    await show(await makeBook(address), sessionStorage.getItem(placeKey))
    document.getElementById('previous').addEventListener('click', () => view.prev())
    document.getElementById('next').addEventListener('click', () => view.next())
    document.addEventListener('keydown', onKey)
}

offerSettings()
offerFormats()
if (query.has('live')) follow()
if (!address) showProblem('No book given: open this page as index.html?book=ADDRESS.')
else open().catch(error => showProblem(`Cannot open ${address}: ${error.message}`))
