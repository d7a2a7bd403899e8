// The scenes a stream can show, as plain data: ids and descriptions without their drawing code.
// The web role validates and lists screen ids from here without loading the native canvas
// library; `index.ts` (the real registry, used by render threads) must hold the same ids, which
// a unit test checks.
export interface SceneInfo {
  id: string;
  description: string;
}

export const SCENE_CATALOG: readonly SceneInfo[] = [
  { id: 'testcard', description: "Colour bars with the stream key's fingerprint, a running clock and the frame number" },
  { id: 'poll', description: 'The live poll: question, animated vote bars with percentages and counts, total, countdown' },
  { id: 'timecode', description: 'Render time as a machine-readable bar (for latency measurement) and a clock' },
];

export function sceneIds(): string[] {
  return SCENE_CATALOG.map((s) => s.id);
}

export function isSceneId(id: string): boolean {
  return SCENE_CATALOG.some((s) => s.id === id);
}
