import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sha256 } from '../crypto/primitives.js';
import { frontierPush, frontierRoot, leafHash, merkleRoot, nodeHash, type Frontier } from './chain.js';

/** RFC 6962 test vectors from the certificate-transparency reference implementation (merkle_tree_test). */
const LEAVES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'];
const ROOTS = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];

/** The recursive definition of RFC 6962 §2.1, as a reference for the incremental frontier. */
function mth(leaves: Buffer[]): Buffer {
  if (leaves.length === 0) return sha256(Buffer.alloc(0));
  if (leaves.length === 1) return leaves[0]!;
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return nodeHash(mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}

describe('Merkle tree (RFC 6962) [LOG-02]', () => {
  it('matches the published roots for 1 to 8 leaves', () => {
    const leaves = LEAVES.map((hex) => leafHash(Buffer.from(hex, 'hex')));
    for (let n = 1; n <= 8; n++) expect(merkleRoot(leaves.slice(0, n)).toString('hex')).toBe(ROOTS[n - 1]);
  });

  it('gives the empty tree the hash of the empty string', () => {
    expect(merkleRoot([]).toString('hex')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('computes the same root incrementally as the recursive definition, for any size', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ minLength: 0, maxLength: 8 }), { maxLength: 70 }), (datas) => {
        const leaves = datas.map((d) => leafHash(Buffer.from(d)));
        let f: Frontier = [];
        for (let i = 0; i < leaves.length; i++) {
          f = frontierPush(f, leaves[i]!);
          expect(frontierRoot(f).equals(mth(leaves.slice(0, i + 1)))).toBe(true);
        }
      }),
    );
  });
});
