import {
  EdgeConfigSchema,
  GatewayConfigSchema,
  LogLevelSchema,
  PolicySchema,
  parseConfig,
} from '@squeezegate/shared';
import { describe, expect, it } from 'vitest';

const edgeMinimal = {
  deviceId: 'cam-01',
  token: 'secret-token',
  gatewayUrl: 'ws://127.0.0.1:8787/v1/edge',
  modelsDir: '/var/lib/squeezegate/models',
  source: { dir: '/data/frames' },
};

describe('EdgeConfigSchema', () => {
  it('applies every default to a minimal config and freezes it', () => {
    const result = parseConfig(EdgeConfigSchema, edgeMinimal);
    expect(result).toEqual({
      ok: true,
      config: {
        ...edgeMinimal,
        task: 'classify',
        model: 'squeezenet1.1',
        detect: {
          model: 'yolox-nano-416',
          confident: 0.5,
          uncertain: 0.2,
          maxCrops: 3,
          cropPadding: 0.15,
          emptyFrame: 0.1,
          tiling: 'off',
        },
        privacy: {
          faces: 'pixelate',
          faceModel: 'yunet-s+ultraface-rfb320',
          faceThreads: 2,
          faceThreshold: 0.5,
          facePadding: 0.2,
          masks: [],
        },
        policy: { kind: 'threshold', measure: 'maxProb', threshold: 0.85, temperature: 1 },
        payload: { kind: 'crop', codec: 'webp', quality: 80 },
        fusion: { edgeWeight: 0.25 },
        deadlineMs: 1000,
        maxInFlight: 8,
        reconnect: { baseMs: 250, maxMs: 10_000 },
        busyBackoff: { baseMs: 50, maxMs: 2000 },
        source: { dir: '/data/frames', fps: 0, offset: 0, stride: 1, loop: false, rtspTransport: 'tcp' },
        video: { gate: { enabled: true }, track: { enabled: true }, sceneFrames: 1 },
        output: '-',
        logLevel: 'info',
      },
    });
    expect(result.ok && Object.isFrozen(result.config)).toBe(true);
  });

  it('keeps explicit values and fills policy defaults', () => {
    const result = parseConfig(EdgeConfigSchema, {
      ...edgeMinimal,
      gatewayUrl: 'wss://gateway.example.org/v1/edge',
      model: 'squeezenet1.0-deepcompression',
      policy: { kind: 'threshold', measure: 'entropy' },
      source: { dir: '/data/frames', fps: 5, limit: 100, offset: 1, stride: 2, labels: '/data/labels.csv' },
      logLevel: 'silent',
    });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.config.policy).toEqual({
      kind: 'threshold',
      measure: 'entropy',
      threshold: 0.85,
      temperature: 1,
    });
    expect(result.config.model).toBe('squeezenet1.0-deepcompression');
    expect(result.config.source).toEqual({
      dir: '/data/frames',
      fps: 5,
      limit: 100,
      offset: 1,
      stride: 2,
      labels: '/data/labels.csv',
      loop: false,
      rtspTransport: 'tcp',
    });
    expect(result.config.logLevel).toBe('silent');
  });

  it('lists every problem as "path: message"', () => {
    const result = parseConfig(EdgeConfigSchema, {
      deviceId: 'cam 01',
      token: '',
      gatewayUrl: 'http://gateway:8787',
      modelsDir: '/models',
      model: 'resnet50',
      policy: { kind: 'threshold', threshold: 1.5 },
      payload: { kind: 'crop', quality: 0 },
      deadlineMs: -1,
      source: { dir: '', stride: 0 },
      verbose: true,
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues).toEqual(
      expect.arrayContaining([
        'deviceId: device id: letters, digits, ".", "_" or "-"',
        'token: a device token is required (--token or SQUEEZEGATE_TOKEN)',
        'gatewayUrl: gateway URL must be ws:// or wss://',
        expect.stringMatching(/^model: .*squeezenet1\.1/),
        expect.stringMatching(/^policy\.threshold: .*<=1/),
        expect.stringMatching(/^payload\.quality: .*>=1/),
        expect.stringMatching(/^deadlineMs: /),
        'source.dir: a frame source is required (--source or SQUEEZEGATE_DATASET_DIR)',
        expect.stringMatching(/^source\.stride: /),
        '(root): Unrecognized key: "verbose"',
      ]),
    );
    expect(result.issues).toHaveLength(10);
  });

  it('reports missing required fields', () => {
    const result = parseConfig(EdgeConfigSchema, {});
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const paths = result.issues.map((i) => i.slice(0, i.indexOf(':')));
    expect(paths.sort()).toEqual(['deviceId', 'gatewayUrl', 'modelsDir', 'token']);
  });

  it('rejects a non-object', () => {
    expect(parseConfig(EdgeConfigSchema, 'cam-01')).toEqual({
      ok: false,
      issues: [expect.stringMatching(/^\(root\): .*expected object/)],
    });
  });
});

describe('GatewayConfigSchema', () => {
  const gatewayMinimal = { modelsDir: '/models', devices: [{ id: 'cam-01', token: '12345678' }] };

  it('applies defaults', () => {
    expect(parseConfig(GatewayConfigSchema, gatewayMinimal)).toEqual({
      ok: true,
      config: {
        ...gatewayMinimal,
        host: '127.0.0.1',
        port: 8787,
        cloudModel: 'mobilenetv2-12-int8',
        maxPayloadBytes: 4 * 1024 * 1024,
        maxConnectionsPerDevice: 2,
        answerCacheSize: 4096,
        threads: 1,
        workers: 1,
        maxBatch: 8,
        maxQueueDelayMs: 2,
        maxQueue: 64,
        logLevel: 'info',
        payloadPreview: { enabled: true, size: 50, maxBytes: 16 * 1024 * 1024 },
      },
    });
  });

  it('accepts port 0 (ephemeral, for tests) and an empty device list', () => {
    const result = parseConfig(GatewayConfigSchema, { modelsDir: '/models', devices: [], port: 0 });
    expect(result.ok && result.config.port).toBe(0);
  });

  it('rejects short device tokens and lists every problem', () => {
    const result = parseConfig(GatewayConfigSchema, {
      port: 65536,
      devices: [
        { id: 'cam-01', token: 'short' },
        { id: 'bad id', token: 'long-enough-token' },
        { id: 'cam-03', token: 'long-enough-token', admin: true },
      ],
      threads: 0,
      cloudModel: 'gpt',
    });
    expect(result).toEqual({
      ok: false,
      issues: expect.arrayContaining([
        expect.stringMatching(/^port: .*<=65535/),
        'modelsDir: Invalid input: expected string, received undefined',
        'devices.0.token: device tokens need at least 8 characters',
        'devices.1.id: device id: letters, digits, ".", "_" or "-"',
        'devices.2: Unrecognized key: "admin"',
        expect.stringMatching(/^threads: /),
        expect.stringMatching(/^cloudModel: /),
      ]),
    });
    expect(!result.ok && result.issues).toHaveLength(7);
  });

  const SHA = 'a'.repeat(64);

  it('takes a device token in plain or as its sha256, exactly one of the two', () => {
    const result = parseConfig(GatewayConfigSchema, {
      modelsDir: '/models',
      devices: [
        { id: 'cam-01', token: '12345678' },
        { id: 'cam-02', tokenSha256: SHA.toUpperCase() },
      ],
    });
    expect(result.ok && result.config.devices).toEqual([
      { id: 'cam-01', token: '12345678' },
      { id: 'cam-02', tokenSha256: SHA.toUpperCase() },
    ]);
    const bad = parseConfig(GatewayConfigSchema, {
      modelsDir: '/models',
      devices: [
        { id: 'both', token: '12345678', tokenSha256: SHA },
        { id: 'neither' },
        { id: 'short-hash', tokenSha256: 'abc' },
        { id: 'both', token: '87654321' },
      ],
    });
    expect(bad).toEqual({
      ok: false,
      issues: [
        'devices.0: give exactly one of token and tokenSha256',
        'devices.1: give exactly one of token and tokenSha256',
        "devices.2.tokenSha256: the token's sha256 as 64 hex digits",
        'devices.3.id: duplicate device id "both"',
      ],
    });
    expect(
      parseConfig(GatewayConfigSchema, {
        modelsDir: '/models',
        devices: [
          { id: 'cam-01', token: '12345678' },
          { id: 'cam-01', tokenSha256: SHA },
        ],
      }),
    ).toEqual({ ok: false, issues: ['devices.1.id: duplicate device id "cam-01"'] });
  });

  it('parses the trust and limit settings, and keeps the admin token apart from device tokens', () => {
    const result = parseConfig(GatewayConfigSchema, {
      ...gatewayMinimal,
      adminToken: 'admin-token-0123456789',
      tls: { cert: '/etc/sg/cert.pem', key: '/etc/sg/key.pem' },
      maxFramesPerSecond: 12.5,
      maxConnectionsPerDevice: 1,
      answerCacheSize: 16,
    });
    expect(result).toMatchObject({
      ok: true,
      config: {
        tls: { cert: '/etc/sg/cert.pem', key: '/etc/sg/key.pem' },
        maxFramesPerSecond: 12.5,
        maxConnectionsPerDevice: 1,
        answerCacheSize: 16,
      },
    });
    const bad = parseConfig(GatewayConfigSchema, {
      ...gatewayMinimal,
      tls: { cert: '/etc/sg/cert.pem' },
      maxFramesPerSecond: 0,
      maxConnectionsPerDevice: 0,
      answerCacheSize: 1.5,
    });
    expect(!bad.ok && bad.issues.map((i) => i.slice(0, i.indexOf(':')))).toEqual([
      'tls.key',
      'maxFramesPerSecond',
      'maxConnectionsPerDevice',
      'answerCacheSize',
    ]);
    expect(
      parseConfig(GatewayConfigSchema, {
        modelsDir: '/models',
        adminToken: 'shared-secret-0123456789',
        devices: [{ id: 'cam-01', token: 'shared-secret-0123456789' }],
      }),
    ).toEqual({ ok: false, issues: ['adminToken: the admin token must differ from every device token'] });
  });
});

describe('PolicySchema and LogLevelSchema', () => {
  it('parse on their own', () => {
    expect(PolicySchema.parse({ kind: 'threshold' })).toEqual({
      kind: 'threshold',
      measure: 'maxProb',
      threshold: 0.85,
      temperature: 1,
    });
    expect(PolicySchema.parse({ kind: 'always' })).toEqual({ kind: 'always' });
    expect(PolicySchema.safeParse({ kind: 'sometimes' }).success).toBe(false);
    expect(PolicySchema.safeParse({ kind: 'rate', burst: 0.5 }).success).toBe(false);
    expect(PolicySchema.safeParse({ kind: 'threshold', measure: 'variance' }).success).toBe(false);
    expect(LogLevelSchema.options).toEqual(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);
  });
});
