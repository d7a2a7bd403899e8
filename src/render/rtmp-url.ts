// RTMP_URL bases and the stream key. A base may carry a query that its server reads, such as
// MediaMTX's publish credentials (`rtmp://host:1935/live?user=u&pass=p`): the key goes at the end
// of the path, before the query (`rtmp://host:1935/live/<key>?user=u&pass=p`), never after it.

/** `base` (`rtmp://host/app`, a query allowed) with `streamKey` as its last path segment. */
export function withStreamKey(base: string, streamKey: string): string {
  const cut = base.search(/[?#]/);
  const path = cut < 0 ? base : base.slice(0, cut);
  const rest = cut < 0 ? '' : base.slice(cut);
  return `${path.replace(/\/+$/, '')}/${streamKey}${rest}`;
}

/** A base as it may be shown: the host and path kept, credentials (user:pass@, a query) hidden. */
export function redactBase(base: string): string {
  return base.replace(/^([a-z]+:\/\/)[^/?#@]*@/i, '$1…@').replace(/[?#].*$/, '?…');
}
