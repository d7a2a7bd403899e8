// The built-in poll bank: fighting-game matchups and fun questions, 2–4 options each.
import type { PollDraft } from './types.js';

export const POLL_BANK: readonly PollDraft[] = [
  { question: 'Who wins: Ryu or Ken?', options: ['Ryu', 'Ken'] },
  { question: 'Best fighting game franchise?', options: ['Street Fighter', 'Tekken', 'Mortal Kombat', 'Guilty Gear'] },
  { question: 'Who takes the round?', options: ['Chun-Li', 'Cammy', 'Juri'] },
  { question: 'Scorpion vs Sub-Zero: who wins?', options: ['Scorpion', 'Sub-Zero'] },
  { question: 'Which character has the best theme music?', options: ['Guile', 'Ken', 'Zangief', 'Blanka'] },
  { question: 'Your main playstyle?', options: ['Rushdown', 'Zoning', 'Grappler', 'Turtle'] },
  { question: 'Kazuya or Jin in a final round?', options: ['Kazuya', 'Jin'] },
  { question: 'Best special move input?', options: ['Quarter circle', 'Dragon punch', '360', 'Charge'] },
  { question: 'Who is the toughest boss?', options: ['M. Bison', 'Akuma', 'Shao Kahn', 'Heihachi'] },
  { question: 'Arcade stick or pad?', options: ['Arcade stick', 'Pad', 'Leverless'] },
  { question: 'Sol Badguy vs Ky Kiske?', options: ['Sol', 'Ky'] },
  { question: 'Best stage to fight on?', options: ['Rooftop', 'Temple', 'Street market', 'Volcano'] },
  { question: 'Which comeback mechanic is the most hype?', options: ['Super meter', 'Rage art', 'X-ray', 'V-Trigger'] },
  { question: 'Zangief vs T. Hawk: grappler showdown?', options: ['Zangief', 'T. Hawk'] },
  { question: 'Online or couch versus?', options: ['Online ranked', 'Couch versus', 'Local tournament'] },
  { question: 'Perfect round or comeback win?', options: ['Perfect round', 'Last-pixel comeback'] },
  { question: 'Who should headline the next crossover?', options: ['Ryu', 'Kazuya', 'Terry Bogard', 'Sub-Zero'] },
  { question: 'Best training-mode habit?', options: ['Combo drills', 'Frame data', 'Replays', 'Mash and pray'] },
  { question: 'Guile or Dhalsim at full screen?', options: ['Guile', 'Dhalsim'] },
  { question: 'Most satisfying sound in a fighting game?', options: ['Counter hit', 'Parry', 'K.O.', 'Super flash'] },
  { question: 'Terry Bogard or Geese Howard?', options: ['Terry', 'Geese'] },
  { question: 'Which would you rather master?', options: ['Just frames', 'Parries', 'Option selects'] },
  { question: 'Best snack for a long tournament?', options: ['Pizza', 'Noodles', 'Fruit', 'Energy drink'] },
  { question: 'Who wins a three-way brawl?', options: ['Akuma', 'Heihachi', 'Raiden'] },
];
