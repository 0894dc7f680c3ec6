/** Parser for ARM template expressions (the text between `[` and `]`): literals, calls, `.prop` and `[index]`. */
export type Node =
  | { k: 'lit'; v: unknown }
  | { k: 'call'; name: string; args: Node[] }
  | { k: 'prop'; of: Node; name: string }
  | { k: 'index'; of: Node; at: Node };

export function parse(src: string): Node {
  let i = 0;
  const ws = () => {
    while (src[i] === ' ') i++;
  };
  const primary = (): Node => {
    ws();
    if (src[i] === "'") {
      let out = '';
      i++;
      for (;;) {
        if (src[i] === "'" && src[i + 1] === "'") {
          out += "'";
          i += 2;
        } else if (src[i] === "'") break;
        else out += src[i++];
      }
      i++;
      return { k: 'lit', v: out };
    }
    const num = /^-?\d+/.exec(src.slice(i));
    if (num) {
      i += num[0].length;
      return { k: 'lit', v: Number(num[0]) };
    }
    const id = /^[A-Za-z_][\w.]*/.exec(src.slice(i));
    if (!id) throw new Error(`cannot parse ${src} at ${i}`);
    i += id[0].length;
    ws();
    if (src[i] !== '(') throw new Error(`expected ( after ${id[0]} in ${src}`);
    i++;
    const args: Node[] = [];
    ws();
    while (src[i] !== ')') {
      args.push(expr());
      ws();
      if (src[i] === ',') i++;
    }
    i++;
    return { k: 'call', name: id[0], args };
  };
  const expr = (): Node => {
    let n = primary();
    for (;;) {
      if (src[i] === '.') {
        const id = /^\.([A-Za-z_$][\w$#]*)/.exec(src.slice(i))!;
        i += id[0].length;
        n = { k: 'prop', of: n, name: id[1]! };
      } else if (src[i] === '[') {
        i++;
        const at = expr();
        ws();
        i++; // ]
        n = { k: 'index', of: n, at };
      } else return n;
    }
  };
  return expr();
}
