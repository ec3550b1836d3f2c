// What e2e tests compare a volume's files by: every entry's path, type, size,
// mode, owner, modification time and sha256 (or link target), as a shell
// script run in a pod that mounts the volume at /data prints them, joined
// into one sorted line per entry. Apart from the backup script's own
// description (find -printf), so that a restore is checked by other means
// than the ones it checks itself with.

/**
 * Every entry below /data (without a top-level lost+found), in batches so
 * that a loaded node answers in seconds: stat of all entries, sha256sum of all
 * regular files, then each link's target. entryLines reads its output.
 */
export const volumeListingScript = `set -euo pipefail
cd /data
echo '== stat'
find . -mindepth 1 \\( -path ./lost+found -prune \\) -o -print0 | xargs -0 -r stat -c '%F|%n|%s %a %u:%g %Y' --
echo '== sha256'
find . -mindepth 1 \\( -path ./lost+found -prune \\) -o -type f -print0 | xargs -0 -r sha256sum --
echo '== links'
find . -mindepth 1 -type l -print0 | while IFS= read -r -d '' p; do printf '%s|%s\\n' "$p" "$(readlink "$p")"; done
`;

/**
 * One line per entry of volumeListingScript's output, sorted: for a file
 * `f<TAB>path<TAB>size mode owner mtime<TAB>sha256`; for a folder
 * `d<TAB>path<TAB>mode owner`; for a link `l<TAB>path<TAB>target`.
 */
export function entryLines(output: string): string[] {
  const sections = new Map<string, string[]>();
  let current = '';
  for (const line of output.split('\n')) {
    if (line.startsWith('== ')) current = line.slice(3);
    else if (line !== '') sections.set(current, [...(sections.get(current) ?? []), line]);
  }
  const sums = new Map((sections.get('sha256') ?? []).map((line) => [line.slice(66), line.slice(0, 64)]));
  const targets = new Map((sections.get('links') ?? []).map((line) => [line.slice(0, line.indexOf('|')), line.slice(line.indexOf('|') + 1)]));
  return (sections.get('stat') ?? [])
    .map((line) => {
      const [type = '', path = '', facts = ''] = line.split('|');
      const [size = '', mode = '', owner = '', mtime = ''] = facts.split(' ');
      if (type === 'symbolic link') return `l\t${path}\t${targets.get(path) ?? '?'}`;
      if (type === 'directory') return `d\t${path}\t${mode} ${owner}`;
      if (type.startsWith('regular')) return `f\t${path}\t${size} ${mode} ${owner} ${mtime}\t${sums.get(path) ?? '?'}`;
      return `other\t${path}`;
    })
    .sort();
}
