import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RefreshRound } from './refresh-round.js';

describe('RefreshRound', () => {
  test('members that join at different times run together, once a period', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const runs: { member: string; at: number }[] = [];
    let now = 0;
    const round: RefreshRound<string> = new RefreshRound(1000, (member) => {
      runs.push({ member, at: now });
      round.join(member);
    });
    round.join('a');
    now = 300;
    t.mock.timers.tick(300);
    round.join('b');
    now = 999;
    t.mock.timers.tick(699);
    assert.deepEqual(runs, []);
    now = 1000;
    t.mock.timers.tick(1);
    assert.deepEqual(
      runs,
      [
        { member: 'a', at: 1000 },
        { member: 'b', at: 1000 },
      ],
      'b waited 700 ms, not a period of its own',
    );
    now = 2000;
    t.mock.timers.tick(1000);
    assert.deepEqual(runs.slice(2), [
      { member: 'a', at: 2000 },
      { member: 'b', at: 2000 },
    ]);
    round.clear();
  });

  test('a member that left does not run; an empty round stops its timer', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const runs: string[] = [];
    const round = new RefreshRound<string>(1000, (member) => runs.push(member));
    round.join('a');
    round.join('b');
    round.leave('a');
    t.mock.timers.tick(1000);
    assert.deepEqual(runs, ['b']);
    // b did not join again: nothing is due and no timer is left armed to fire
    t.mock.timers.tick(5000);
    assert.deepEqual(runs, ['b']);
    round.join('c');
    t.mock.timers.tick(999);
    assert.deepEqual(runs, ['b'], 'a member joining an idle round waits a whole period');
    t.mock.timers.tick(1);
    assert.deepEqual(runs, ['b', 'c']);
  });

  test('clear() forgets members and the timer', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const runs: string[] = [];
    const round = new RefreshRound<string>(1000, (member) => runs.push(member));
    round.join('a');
    round.clear();
    t.mock.timers.tick(3000);
    assert.deepEqual(runs, []);
  });
});
