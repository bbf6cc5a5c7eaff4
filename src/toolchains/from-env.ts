import type { ConfiguredToolchain } from './types';

/**
 * Environment variable holding configured toolchains as JSON (`[{ name, path | rustup,
 * updateCommand }]`). The VS Code extension sets it in its integrated terminals, so
 * `toolchain-lock update demo` there knows what the editor calls "demo".
 */
export const TOOLCHAINS_ENV = 'TOOLCHAIN_LOCK_TOOLCHAINS';

/** The configured toolchains named in the environment; malformed entries are skipped. */
export function configuredFromEnv(env: NodeJS.ProcessEnv = process.env): ConfiguredToolchain[] {
  const raw = env[TOOLCHAINS_ENV];
  if (!raw) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return [];
  }
  if (!Array.isArray(parsed)) return [];
  const out: ConfiguredToolchain[] = [];
  for (const v of parsed as unknown[]) {
    if (typeof v !== 'object' || v === null) continue;
    const e = v as Record<string, unknown>;
    if (typeof e.name !== 'string' || (typeof e.path !== 'string' && typeof e.rustup !== 'string'))
      continue;
    const updateCommand =
      Array.isArray(e.updateCommand) && e.updateCommand.every((a) => typeof a === 'string')
        ? e.updateCommand
        : undefined;
    out.push({
      name: e.name,
      ...(typeof e.path === 'string' ? { path: e.path } : {}),
      ...(typeof e.rustup === 'string' ? { rustup: e.rustup } : {}),
      ...(updateCommand && updateCommand.length > 0 ? { updateCommand } : {}),
    });
  }
  return out;
}
