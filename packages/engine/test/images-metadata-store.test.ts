import { MemoryMetadataStore } from "../src/memory-metadata-store";
import { describeMetadataStore } from "./metadata-store-conformance";

describeMetadataStore("memory", () => Promise.resolve({ store: new MemoryMetadataStore() }));
