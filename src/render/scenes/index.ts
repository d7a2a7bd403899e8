// The registry of scenes a stream can show, by screenId.
import type { Scene } from '../scene.js';
import { testcard } from './testcard.js';
import { pollScene } from './poll.js';
import { timecode } from './timecode.js';

const scenes = new Map<string, Scene<any>>([
  [testcard.id, testcard],
  [pollScene.id, pollScene],
  [timecode.id, timecode],
]);

export function registerScene(scene: Scene<any>): void {
  scenes.set(scene.id, scene);
}

export function getScene(id: string): Scene<any> | undefined {
  return scenes.get(id);
}

export function sceneIds(): string[] {
  return [...scenes.keys()];
}
