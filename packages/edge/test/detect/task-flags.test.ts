import { edgeConfigFromCli, parsePolygon } from '@squeezegate/edge';
import { describe, expect, it } from 'vitest';

const env = { SQUEEZEGATE_TOKEN: 'tok', SQUEEZEGATE_DATASET_DIR: '/frames' };

describe('detect and privacy flags', () => {
  it('parses polygons of x,y fractions', () => {
    expect(parsePolygon('0,0 0.5,0  0.5,1')).toEqual([
      [0, 0],
      [0.5, 0],
      [0.5, 1],
    ]);
  });

  it('builds the detect task and privacy settings from flags', async () => {
    const parsed = await edgeConfigFromCli(
      [
        '--task',
        'detect',
        '--detector',
        'picodet-s-320',
        '--uncertain',
        '0.25',
        '--faces',
        'withhold',
        '--mask',
        '0,0 0.3,0 0.3,1',
        '--mask',
        '0.9,0.9 1,0.9 1,1',
        '--privacy-ledger',
        '/tmp/ledger.jsonl',
      ],
      env,
    );
    expect(parsed.ok).toBe(true);
    if (parsed.ok !== true) return;
    expect(parsed.config.task).toBe('detect');
    expect(parsed.config.detect).toMatchObject({ model: 'picodet-s-320', uncertain: 0.25, confident: 0.5 });
    expect(parsed.config.privacy).toMatchObject({ faces: 'withhold', ledger: '/tmp/ledger.jsonl' });
    expect(parsed.config.privacy.masks).toHaveLength(2);
  });

  it('defaults to classification with faces pixelated', async () => {
    const parsed = await edgeConfigFromCli([], env);
    expect(parsed.ok === true && parsed.config.task).toBe('classify');
    expect(parsed.ok === true && parsed.config.privacy.faces).toBe('pixelate');
  });

  it('lists every bad setting', async () => {
    const parsed = await edgeConfigFromCli(
      ['--task', 'track', '--mask', '0,0 2,x', '--uncertain', '0.8', '--faces', 'smudge'],
      env,
    );
    expect(parsed.ok).toBe(false);
    const issues = parsed.ok === false ? parsed.issues.join('\n') : '';
    expect(issues).toMatch(/^task:/m);
    expect(issues).toMatch(/privacy\.masks/);
    expect(issues).toMatch(/privacy\.faces/);
    expect(issues).toMatch(/detect\.uncertain: uncertain must not exceed confident/);
  });
});
