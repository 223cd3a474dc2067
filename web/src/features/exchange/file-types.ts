/**
 * A file's type category from its name, for the outside party's pre-check before uploading: the
 * same extension lists as the server's true-type check (src/malware/true-type.ts). Only a hint — the
 * server decides from the content and refuses with `415 exchange.type_not_allowed`.
 */
import type { TypeCategory } from './exchange.api';

const BY_EXTENSION = new Map<string, TypeCategory>();
const add = (category: TypeCategory, extensions: string) => {
  for (const e of extensions.split(' ')) BY_EXTENSION.set(e, category);
};
add('executable', 'exe dll com scr cpl msi msp msc sys drv ocx elf so dylib app apk jar class run deb rpm pif gadget xll');
add(
  'script',
  'bat cmd ps1 psm1 psd1 vbs vbe js jse wsf wsh wsc hta sh bash zsh csh py pyw pl rb php reg inf scf sct ws jnlp applescript',
);
add('shortcut', 'lnk url website webloc desktop appref-ms settingcontent-ms library-ms search-ms');
add('disk_image', 'iso img vhd vhdx vmdk dmg udf wim');
add('html', 'html htm xhtml shtml mht mhtml svg xht');
add('archive', 'zip 7z rar tar gz tgz bz2 xz lzh lha cab zst');
add('office_macro', 'docm dotm xlsm xltm xlam pptm potm ppsm ppam xlsb');
add('office', 'docx dotx xlsx xltx pptx potx ppsx doc xls ppt rtf odt ods odp');
add('pdf', 'pdf');
add('image', 'jpg jpeg png gif webp tif tiff bmp heic heif');
add('text', 'txt csv tsv log md json xml');
add('media', 'mp3 mp4 m4a wav mov avi wmv mkv webm');

/** The category of a file name's extension; `other` when it has none or an unknown one. */
export function categoryOfName(name: string): TypeCategory {
  const dot = name.lastIndexOf('.');
  if (dot <= 0 || dot === name.length - 1) return 'other';
  return BY_EXTENSION.get(name.slice(dot + 1).toLowerCase()) ?? 'other';
}

/** An `accept` attribute for the file chooser: the extensions of the allowed categories (none for `other`). */
export function acceptFor(categories: readonly string[]): string | undefined {
  if (categories.length === 0 || categories.includes('other')) return undefined;
  const extensions = [...BY_EXTENSION].filter(([, c]) => categories.includes(c)).map(([e]) => `.${e}`);
  return extensions.length ? extensions.join(',') : undefined;
}
