// Opens the book whose address the page's query names (`?book=/files/x.epub`) in
// foliate-js's <foliate-view>, one page at a time, with buttons and keys to turn pages.
// foliate-js tells a book's format from its bytes (a zip is an EPUB or KEPUB, the rest is
// tried as MOBI/KF8), so the same page shows every format we write.
// With `live` in the query (as `ebook preview` opens it), the page follows the builds: after
// a good one it opens the new book where the reader was; after a failed one it shows the
// problems over the last good book, which stays open.
import './foliate-js/view.js'

const view = document.querySelector('foliate-view')
const place = document.getElementById('place')
const query = new URLSearchParams(window.location.search)
const address = query.get('book')
// Where the reader is (an EPUB CFI), kept for the tab's life: a reload reopens there.
const placeKey = `ebook-preview-place:${address}`

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
    if (!turn) return
    event.preventDefault()
    turn()
}

// A book's page is a document in an iframe: its key presses never reach ours, so each
// page's document gets the same handler as the reader's own.
const onLoad = ({ detail: { doc } }) => doc.addEventListener('keydown', onKey)

// What the reader shows under the page: the chapter's title and how far into the book.
const onRelocate = ({ detail: { cfi, fraction, tocItem } }) => {
    if (cfi) sessionStorage.setItem(placeKey, cfi)
    const percent = `${Math.round((fraction ?? 0) * 100)}%`
    place.textContent = tocItem?.label ? `${tocItem.label} · ${percent}` : percent
}

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

const open = async address => {
    view.addEventListener('load', onLoad)
    view.addEventListener('relocate', onRelocate)
    await view.open(address)
    view.renderer.setAttribute('flow', 'paginated')
    document.title = `${titleOf(view.book.metadata) ?? address} · ebook preview`
    // Open where the reader was, else where the text starts (the book's bodymatter
    // landmark), as a reading app does.
    const last = sessionStorage.getItem(placeKey)
    await view.init(last ? { lastLocation: last } : { showTextStart: true })
    document.getElementById('previous').addEventListener('click', () => view.prev())
    document.getElementById('next').addEventListener('click', () => view.next())
    document.addEventListener('keydown', onKey)
}

// Each finished build, as `ebook preview` sends it: reload after a good one that made this
// page's file (the place is kept; the EPUB comes first, the other formats next), list the
// problems of a failed one above the book.
const follow = () => {
    const problems = document.getElementById('problems')
    new EventSource('/events').onmessage = event => {
        const build = JSON.parse(event.data)
        if (!build.ok) {
            problems.textContent = build.problems.join('\n')
            problems.hidden = false
        } else if (build.files.includes(address)) window.location.reload()
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
    document.querySelector('nav').prepend(select)
}

offerFormats()
if (query.has('live')) follow()
if (!address) showProblem('No book given: open this page as index.html?book=ADDRESS.')
else open(address).catch(error => showProblem(`Cannot open ${address}: ${error.message}`))
