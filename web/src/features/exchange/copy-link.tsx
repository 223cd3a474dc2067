/** A read-only link with a copy button; when the clipboard is refused the text is selected for copying by hand. */
import { useId, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Button } from '../../ui/button';
import { inputClass, Label, SupportText } from '../../ui/form';

export function CopyLink({ url, label, hint }: { url: string; label: string; hint?: string }) {
  const { t } = useTranslation();
  const id = useId();
  const [copied, setCopied] = useState<'ok' | 'failed' | null>(null);
  const inputRef = useRef<HTMLInputElement>(null);
  async function copy() {
    try {
      await navigator.clipboard.writeText(url);
      setCopied('ok');
    } catch {
      inputRef.current?.select();
      setCopied('failed');
    }
  }
  return (
    <div className="flex flex-col gap-2">
      <Label htmlFor={id}>{label}</Label>
      {hint && <SupportText id={`${id}-hint`}>{hint}</SupportText>}
      <div className="flex flex-wrap gap-2">
        <input
          ref={inputRef}
          id={id}
          readOnly
          value={url}
          aria-describedby={hint ? `${id}-hint` : undefined}
          onFocus={(e) => e.target.select()}
          className={`${inputClass} min-w-0 flex-1 basis-80 font-mono text-dns-14N-130`}
          data-testid="request-link"
        />
        <Button variant="outline" size="lg" onClick={() => void copy()} data-testid="copy-link">
          {t('form.copy')}
        </Button>
      </div>
      <p role="status" className="text-std-16N-170">
        {copied === 'ok' ? t('form.copied') : copied === 'failed' ? t('form.copyFailed') : ''}
      </p>
    </div>
  );
}
