/** The Kura mark: a storehouse (蔵) with a tiled roof and a reinforced door. Decorative. */
export function KuraMark({ className }: { className?: string }) {
  return (
    <svg viewBox="0 0 40 40" aria-hidden="true" focusable="false" className={className}>
      <path d="M4 15 20 5l16 10v3H4z" fill="currentColor" />
      <path d="M8 18h24v17H8z" fill="currentColor" />
      <path d="M6 35h28v2H6z" fill="currentColor" />
      <path d="M16 24h8v11h-8z" fill="white" />
      <path d="M18 26h4v2h-4zM18 30h4v2h-4z" fill="currentColor" />
    </svg>
  );
}
