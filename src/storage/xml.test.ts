import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { childText, childrenNamed, escapeXml, parseXml } from './xml.ts';

describe('parseXml', () => {
  it('reads nested elements, entities, CDATA and ignores the declaration and namespaces', () => {
    const root = parseXml('<?xml version="1.0" encoding="UTF-8"?>\n<s3:Error xmlns:s3="http://s3.amazonaws.com/doc/2006-03-01/"><Code>NoSuchKey</Code><Message>a &lt;b&gt; &amp; &#233;&#x263A; &quot;q&quot;</Message><Key><![CDATA[x<y]]></Key><Empty/></s3:Error>');
    assert.equal(root.name, 'Error');
    assert.equal(childText(root, 'Code'), 'NoSuchKey');
    assert.equal(childText(root, 'Message'), 'a <b> & é☺ "q"');
    assert.equal(childText(root, 'Key'), 'x<y');
    assert.equal(childText(root, 'Empty'), '');
    assert.equal(childText(root, 'Missing'), undefined);
  });

  it('lists repeated children in order', () => {
    const root = parseXml('<R><C><K>a</K></C><C><K>b</K></C><D/></R>');
    assert.deepEqual(childrenNamed(root, 'C').map((c) => childText(c, 'K')), ['a', 'b']);
  });

  it('refuses malformed documents, DOCTYPEs and unknown entities', () => {
    assert.throws(() => parseXml('<A><B></A>'), /closes/);
    assert.throws(() => parseXml('<A>'), /not closed/);
    assert.throws(() => parseXml('<A/><B/>'), /one root/);
    assert.throws(() => parseXml('<!DOCTYPE x [<!ENTITY e "boom">]><A>&e;</A>'), /DOCTYPE/);
    assert.throws(() => parseXml('<A>&e;</A>'), /unknown XML entity/);
    assert.throws(() => parseXml('<html><body>oops</body>'), /not closed/);
  });

  it('escapes text so that it reads back the same', () => {
    const text = `a&b<c>"d"'e'`;
    assert.equal(childText(parseXml(`<K><V>${escapeXml(text)}</V></K>`), 'V'), text);
  });
});
