/**
 * Deterministic fact extraction, used by the realtime emulator's text model to answer summary requests
 * offline (so tests can check that facts carry over). Production summaries come from TEXT_MODEL; this only
 * has to be predictable, not clever.
 *
 * Input: the summary prompt's user message — transcript lines (`User: …`, `Assistant: …`) and/or existing
 * memory lines (`- Key: value`). Output: `- Key: value` lines; a later mention of a key replaces an earlier one.
 */

const PATTERNS: { key: string; re: RegExp }[] = [
  { key: 'Name', re: /\b(?:[Mm]y name is|[Cc]all me|MY NAME IS)\s+(\p{Lu}[\p{L}'-]*(?:\s+\p{Lu}[\p{L}'-]*)?)/u },
  {
    key: 'Lives in',
    re: /\bI live in\s+([\p{L}][\p{L}\s'-]*?)(?=[.,!?;]|\s+(?:and|now|today|these days|since|but)\b|$)/iu,
  },
  {
    key: 'From',
    re: /\bI(?:'m| am) from\s+([\p{L}][\p{L}\s'-]*?)(?=[.,!?;]|\s+(?:and|now|today|these days|since|but)\b|$)/iu,
  },
  { key: 'Likes', re: /\bI (?:like|love|prefer)\s+([^.,!?;]+?)(?=[.,!?;]|$)/iu },
  { key: 'Order', re: /\border\s+(?:number\s+)?(?:is\s+)?#?([A-Z0-9-]*\d[A-Z0-9-]*)/iu },
];

const FACT_LINE = /^-\s*([A-Za-z][A-Za-z ]{0,30}):\s*(.+)$/;

export function extractFacts(text: string): Map<string, string> {
  const facts = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const fact = FACT_LINE.exec(line);
    if (fact) {
      if (!/^no lasting facts/i.test(fact[2]!)) {
        facts.delete(fact[1]!.trim());
        facts.set(fact[1]!.trim(), fact[2]!.trim());
      }
      continue;
    }
    if (!/^user:/i.test(line)) continue; // only what the user said about themselves
    for (const { key, re } of PATTERNS) {
      const m = re.exec(line);
      if (m?.[1]) {
        facts.delete(key); // re-insert so the newest mention is also last
        facts.set(key, m[1].trim());
      }
    }
  }
  return facts;
}

export const NO_FACTS = '- No lasting facts.';

export function formatFacts(facts: Map<string, string>): string {
  if (!facts.size) return NO_FACTS;
  return [...facts].map(([k, v]) => `- ${k}: ${v}`).join('\n');
}

export const summarizeFacts = (text: string) => formatFacts(extractFacts(text));
