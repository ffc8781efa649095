// Package page reads sources that have no feed: a listing page (a press
// room, a newsroom) is fetched and read with CSS selectors, one item per
// element the item selector matches.
//
// Inside each item, the link selector names the element whose href (or
// whose first web link's href) is the item's URL; it defaults to the item
// itself. Links resolve against the page URL, or against <base href>
// when the page has one. The title defaults to the link's text; the date
// is read with the configured Go layout, else with common layouts, else
// found inside the text, and dates in the future are clamped to the fetch
// time. A selector that matches the item element itself selects it, so
// `date: "li"` reads a date written loose in the item's text. Item keys are
// canonical absolute URLs (normalize.Key); repeated links on one page are
// dropped.
//
// goquery matches nothing on a selector it cannot parse, so Validate
// compiles every selector with cascadia and says which one is wrong; the
// configuration calls it when it loads. A page on which the item selector
// matches nothing is not an error: Fetch returns a Batch with no items and
// NotModified false, and the pipeline counts such runs to report a site
// whose template changed.
//
// The page's charset comes from the source's override, else from the
// bytes when they are UTF-8 (whatever the page declares: a declared
// ISO-8859-1 over UTF-8 bytes is a common lie), else from the
// Content-Type header, BOM or <meta>.
package page
