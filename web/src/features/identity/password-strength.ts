/**
 * Estimated strength of a candidate password (zxcvbn-ts with the common and Japanese dictionaries),
 * shown as a meter while typing. Advisory only: acceptance is decided by the server's policy
 * (length, blocklist, context words), whose reasons are shown separately. The dictionaries are
 * large, so they load on first use, from Kura itself like every other asset.
 */
import { useEffect, useState } from 'react';

export type StrengthScore = 0 | 1 | 2 | 3 | 4;

type Checker = (password: string, userInputs: string[]) => StrengthScore;

let checker: Promise<Checker> | null = null;

function loadChecker(): Promise<Checker> {
  checker ??= Promise.all([
    import('@zxcvbn-ts/core'),
    import('@zxcvbn-ts/language-common'),
    import('@zxcvbn-ts/language-ja'),
  ]).then(([core, common, ja]) => {
    const zxcvbn = new core.ZxcvbnFactory({
      dictionary: { ...common.dictionary, ...ja.dictionary },
      graphs: common.adjacencyGraphs,
      useLevenshteinDistance: true,
    });
    return (password, userInputs) => zxcvbn.check(password, userInputs).score;
  });
  return checker;
}

/** The score of `password` (null while empty or loading). `userInputs`: names, IDs that make a guess easier. */
export function usePasswordStrength(password: string, userInputs: readonly string[]): StrengthScore | null {
  const [score, setScore] = useState<StrengthScore | null>(null);
  const inputs = userInputs.join('\n');
  useEffect(() => {
    if (!password) {
      setScore(null);
      return;
    }
    let current = true;
    loadChecker()
      .then((check) => {
        if (current) setScore(check(password, inputs.split('\n').filter(Boolean)));
      })
      .catch(() => {
        if (current) setScore(null);
      });
    return () => {
      current = false;
    };
  }, [password, inputs]);
  return score;
}
