import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseMultipartUploadsPage } from './s3.ts';

describe('parseMultipartUploadsPage', () => {
  it('reads the uploads of a last page', () => {
    const page = parseMultipartUploadsPage(
      `<?xml version="1.0" encoding="UTF-8"?>
<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Bucket>backups</Bucket><KeyMarker></KeyMarker><UploadIdMarker></UploadIdMarker><Prefix>ns/b/</Prefix><MaxUploads>1000</MaxUploads>
  <IsTruncated>false</IsTruncated>
  <Upload><Key>ns/b/20261202T030000Z/data.sql.gz</Key><UploadId>abc</UploadId><Initiated>2026-12-02T03:01:02.000Z</Initiated></Upload>
  <Upload><Key>ns/b/20261203T030000Z/a &amp; b</Key><UploadId>def</UploadId><Initiated>2026-12-03T03:01:02.000Z</Initiated></Upload>
</ListMultipartUploadsResult>`,
      'backups',
    );
    assert.deepEqual(page.uploads, [
      { key: 'ns/b/20261202T030000Z/data.sql.gz', uploadId: 'abc', initiated: new Date('2026-12-02T03:01:02Z') },
      { key: 'ns/b/20261203T030000Z/a & b', uploadId: 'def', initiated: new Date('2026-12-03T03:01:02Z') },
    ]);
    assert.equal(page.next, undefined);
  });

  it('gives the next page’s markers when truncated, and refuses a truncated page without them', () => {
    const page = parseMultipartUploadsPage(
      '<ListMultipartUploadsResult><IsTruncated>true</IsTruncated><NextKeyMarker>k</NextKeyMarker><NextUploadIdMarker>u</NextUploadIdMarker></ListMultipartUploadsResult>',
      'b',
    );
    assert.deepEqual(page, { uploads: [], next: { keyMarker: 'k', uploadIdMarker: 'u' } });
    assert.throws(() => parseMultipartUploadsPage('<ListMultipartUploadsResult><IsTruncated>true</IsTruncated></ListMultipartUploadsResult>', 'b'), /truncated page without NextKeyMarker/);
    assert.throws(() => parseMultipartUploadsPage('<Error><Code>AccessDenied</Code></Error>', 'b'), /expected a ListMultipartUploadsResult, got <Error>/);
  });
});
