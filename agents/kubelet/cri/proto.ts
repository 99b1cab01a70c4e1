// Loads the CRI v1 schema from the text embedded in api-proto.ts (no file is read at run time, so
// the esbuild bundle is self-contained) and turns it into gRPC service constructors.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
// protobufjs is @grpc/proto-loader's own parser; proto-loader only parses files, we hold a string.
import protobuf from 'protobufjs';
import { CRI_PROTO } from './api-proto.ts';
import type { ProtoGrpcType } from './api-types.ts';

/** The loader options; gen-types.ts passes the same ones to the generator of api-types.ts. */
export const LOADER_OPTIONS: protoLoader.Options = {
  longs: Number,
  enums: String,
  bytes: Buffer,
  defaults: true,
  arrays: true,
  objects: true,
  oneofs: true,
};

type Services = ProtoGrpcType['runtime']['v1'];

export interface CriServices {
  RuntimeService: Services['RuntimeService'];
  ImageService: Services['ImageService'];
  definition: protoLoader.PackageDefinition;
}

let cached: CriServices | undefined;

export function loadCriServices(): CriServices {
  if (cached) return cached;
  // keepCase false: protobufjs renames fields to camelCase while parsing, the JSON keeps that
  const parsed = protobuf.parse(CRI_PROTO, { keepCase: false });
  const definition = protoLoader.fromJSON(parsed.root.toJSON(), LOADER_OPTIONS);
  // loadPackageDefinition is untyped (GrpcObject); the generated ProtoGrpcType describes this schema
  const pkg = grpc.loadPackageDefinition(definition) as unknown as ProtoGrpcType;
  cached = { RuntimeService: pkg.runtime.v1.RuntimeService, ImageService: pkg.runtime.v1.ImageService, definition };
  return cached;
}
