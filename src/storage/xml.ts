// The little XML that S3 answers with (ListBucketResult, Error, DeleteResult,
// InitiateMultipartUploadResult): elements, text and the predefined and
// numeric entities. No attributes are needed (namespaces are ignored), no
// DTDs are accepted. A dependency-free reader is enough for these documents
// and avoids an XML library's entity-expansion attack surface.

export interface XmlElement {
  readonly name: string;
  readonly children: XmlElement[];
  /** The element's own text (entities decoded), concatenated across child elements. */
  text: string;
}

const entities: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (whole, name: string) => {
    if (name.startsWith('#x')) return String.fromCodePoint(Number.parseInt(name.slice(2), 16));
    if (name.startsWith('#')) return String.fromCodePoint(Number.parseInt(name.slice(1), 10));
    const value = entities[name];
    if (value === undefined) throw new Error(`unknown XML entity ${whole}`);
    return value;
  });
}

/** Element name without a namespace prefix. */
const localName = (qualified: string): string => qualified.slice(qualified.indexOf(':') + 1);

/** Parses `xml` into its root element; throws with the position on malformed input. */
export function parseXml(xml: string): XmlElement {
  const root: XmlElement = { name: '#document', children: [], text: '' };
  const stack: XmlElement[] = [root];
  const token = /<!\[CDATA\[([\s\S]*?)\]\]>|<!--[\s\S]*?-->|<\?[\s\S]*?\?>|<!DOCTYPE|<(\/?)([A-Za-z_][\w.:-]*)((?:\s+[\w.:-]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>|([^<]+)/g;
  let position = 0;
  for (let match = token.exec(xml); match !== null; match = token.exec(xml)) {
    if (match.index !== position) throw new Error(`malformed XML at offset ${position}`);
    position = token.lastIndex;
    const [whole, cdata, closing, name, , selfClosing, text] = match;
    const current = stack.at(-1);
    if (current === undefined) throw new Error('malformed XML: content after the root element');
    if (whole === '<!DOCTYPE') throw new Error('XML with a DOCTYPE is not accepted');
    if (cdata !== undefined) current.text += cdata;
    else if (text !== undefined) current.text += decodeEntities(text);
    else if (name !== undefined) {
      if (closing === '/') {
        if (current.name !== localName(name) || stack.length === 1) throw new Error(`malformed XML: </${name}> closes <${current.name}>`);
        stack.pop();
      } else {
        const element: XmlElement = { name: localName(name), children: [], text: '' };
        current.children.push(element);
        if (selfClosing !== '/') stack.push(element);
      }
    }
  }
  if (position !== xml.length) throw new Error(`malformed XML at offset ${position}`);
  if (stack.length !== 1) throw new Error(`malformed XML: <${stack.at(-1)?.name ?? ''}> is not closed`);
  const rootElement = root.children[0];
  if (rootElement === undefined || root.children.length !== 1) throw new Error('malformed XML: expected exactly one root element');
  return rootElement;
}

/** The first child named `name`, or undefined. */
export function child(element: XmlElement, name: string): XmlElement | undefined {
  return element.children.find((c) => c.name === name);
}

/** Every child named `name`. */
export function childrenNamed(element: XmlElement, name: string): XmlElement[] {
  return element.children.filter((c) => c.name === name);
}

/** The text of the first child named `name`, or undefined when there is none. */
export function childText(element: XmlElement, name: string): string | undefined {
  return child(element, name)?.text;
}

/** Escapes text for an XML element's content (keys in a DeleteObjects request). */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&${Object.entries(entities).find(([, v]) => v === c)?.[0] ?? 'amp'};`);
}
