import { CLUSTER_PLUGIN, clusterPlugin } from './cluster/cluster-plugin.js';
import type { LabPlugin, LabPluginFactory } from './plugins.js';

/** Plugins the CLI can load by name. `up` enables all of them unless `--plugins` says otherwise. */
export const builtinPlugins: Readonly<Record<string, LabPluginFactory>> = {
  [CLUSTER_PLUGIN]: clusterPlugin,
};

export function defaultPluginNames(): string[] {
  return Object.keys(builtinPlugins);
}

export function loadPlugins(names: readonly string[]): LabPlugin[] {
  return names.map((name) => {
    const factory = builtinPlugins[name];
    if (!factory) throw new Error(`unknown lab plugin ${name} (known: ${defaultPluginNames().join(', ') || 'none'})`);
    const plugin = factory();
    if (plugin.name !== name) throw new Error(`lab plugin registered as ${name} calls itself ${plugin.name}`);
    return plugin;
  });
}

/** Like loadPlugins, but skips (and reports) names this build does not know, e.g. test-only plugins. */
export function loadKnownPlugins(names: readonly string[]): LabPlugin[] {
  const unknown = names.filter((n) => !(n in builtinPlugins));
  if (unknown.length > 0) process.stderr.write(`lab: plugins not available here, skipped: ${unknown.join(', ')}\n`);
  return loadPlugins(names.filter((n) => n in builtinPlugins));
}
