//! The iteration order of a Scala 2.13 immutable `Map[Int, _]` built from a mutable
//! `HashMap` (`toMap`), which decides in which order Spark's level-wise growth visits the
//! trees of a node group — and hence the order of the feature-subset draws.

/// Scala's `Hashing.improve` (the CHAMP trie's hash of an `Int` key).
fn improve(hcode: i32) -> u32 {
    let mut h = hcode.wrapping_add(!(hcode.wrapping_shl(9)));
    h ^= ((h as u32) >> 14) as i32;
    h = h.wrapping_add(h.wrapping_shl(4));
    (h ^ ((h as u32) >> 10) as i32) as u32
}

/// Keys (distinct tree indices) in the order Scala 2.13 iterates `mutableMap.toMap`.
///
/// Up to four keys the immutable map (`Map1`..`Map4`) keeps the insertion order, which is
/// the mutable `HashMap`'s order: buckets `(k ^ k >>> 16) & 15` ascending, then the hash
/// ascending. From five keys on it is a CHAMP trie: at each level the keys whose 5-bit
/// chunk of `improve(k)` is unique come first (by chunk), then the shared chunks recurse.
pub(crate) fn scala_map_order(keys: &[usize]) -> Vec<usize> {
    if keys.len() <= 4 {
        let mut v: Vec<usize> = keys.to_vec();
        v.sort_by_key(|&k| {
            let k = k as u32;
            let h = k ^ (k >> 16);
            (h & 15, h)
        });
        return v;
    }
    let hashed: Vec<(u32, usize)> = keys.iter().map(|&k| (improve(k as i32), k)).collect();
    let mut out = Vec::with_capacity(keys.len());
    champ(&hashed, 0, &mut out);
    out
}

fn champ(entries: &[(u32, usize)], shift: u32, out: &mut Vec<usize>) {
    if shift >= 32 {
        // Full hash collision (impossible for distinct Int keys): keep the given order.
        out.extend(entries.iter().map(|e| e.1));
        return;
    }
    let chunk = |h: u32| (h >> shift) & 31;
    let mut by_chunk: Vec<Vec<(u32, usize)>> = vec![Vec::new(); 32];
    for &e in entries {
        by_chunk[chunk(e.0) as usize].push(e);
    }
    for group in &by_chunk {
        if group.len() == 1 {
            out.push(group[0].1);
        }
    }
    for group in &by_chunk {
        if group.len() > 1 {
            champ(group, shift + 5, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_jvm_orders() {
        // improve(0..7) and the orders below were printed by Scala 2.13 on the JVM
        // (reference Appendix A).
        let imp: Vec<u32> = (0..8).map(improve).collect();
        assert_eq!(
            imp,
            [
                0xff83ef00, 0xff83cee7, 0xff83acce, 0xff838ad4, 0xff83689d, 0xff834681, 0xff8324a8,
                0xff8302b2
            ]
        );
        let order = |n: usize| scala_map_order(&(0..n).collect::<Vec<_>>());
        assert_eq!(order(3), [0, 1, 2]);
        assert_eq!(order(6), [0, 5, 1, 2, 3, 4]);
        assert_eq!(order(7), [0, 5, 1, 6, 2, 3, 4]);
        assert_eq!(order(8), [0, 5, 1, 6, 2, 7, 3, 4]);
        assert_eq!(order(10), [0, 5, 1, 6, 9, 2, 7, 3, 8, 4]);
        assert_eq!(
            order(20),
            [0, 5, 10, 14, 1, 6, 9, 13, 2, 17, 12, 7, 3, 18, 16, 11, 8, 19, 4, 15]
        );
        assert_eq!(scala_map_order(&[3, 17]), [17, 3]);
        assert_eq!(scala_map_order(&[20, 4, 36]), [4, 20, 36]);
    }
}
