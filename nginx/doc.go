// Package nginx owns docplat's edge: the nginx configuration (rendered from
// an embedded template), the Lua hot tier under lua/ (hot entries in a
// lua_shared_dict, served without a round trip to the app; consistent
// hashing over the app instances with fallback), the child nginx process,
// the Go client of the hot tier's admin API and Edge, which adapts it to the
// hot-document path (hotspot). It never decides what is hot (the detector
// does), who may read what (docs/ does; readtoken carries that decision to
// nginx) nor how a content answer is headed (contentpolicy does; the hot
// tier replays the headers each entry carries).
package nginx
