package io.isthmus.control.qapi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.isthmus.control.QmpError;
import io.isthmus.control.json.JsonNull;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Argument validation against QEMU 7.2's exact messages. Every expected text below was observed
 * by sending the same arguments to qemu-storage-daemon 7.2.22 (see QsdParityIT for the live
 * comparison of a subset).
 */
class QapiValidatorTest {
    static final QapiSchema SCHEMA = QapiSchema.load();
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Converts Jackson's tree to the control value model. */
    static Object toModel(Object o) {
        return switch (o) {
            case null -> JsonNull.NULL;
            case Map<?, ?> m -> {
                Map<String, Object> r = new LinkedHashMap<>();
                m.forEach((k, v) -> r.put((String) k, toModel(v)));
                yield r;
            }
            case List<?> l -> {
                List<Object> r = new ArrayList<>();
                l.forEach(v -> r.add(toModel(v)));
                yield r;
            }
            case Integer i -> (long) i;
            case Long l -> l;
            case BigInteger b -> b.bitLength() < 64 ? (Object) b.longValue() : b;
            case Double d -> d;
            case Float f -> f.doubleValue();
            default -> o;
        };
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> json(String s) {
        try {
            return (Map<String, Object>) toModel(JSON.readValue(s.replace('\'', '"'), Object.class));
        } catch (Exception e) {
            throw new IllegalArgumentException(s, e);
        }
    }

    static Stream<Arguments> badArguments() {
        return Stream.of(
            Arguments.of("block-export-add", "{'type':'nbd','id':'e','node-name':'n','bitmaps':[1]}",
                "Invalid parameter type for 'null', expected: BlockDirtyBitmapOrStr"),
            Arguments.of("block-export-add", "{'type':'nbd','id':'e','node-name':'n','bitmaps':['a',{'node':'x'}]}",
                "Parameter 'bitmaps[1].name' is missing"),
            Arguments.of("block-export-add", "{'type':'nbd','id':'e','node-name':'n','bitmaps':['a',{'node':'x','name':1}]}",
                "Invalid parameter type for 'bitmaps[1].name', expected: string"),
            Arguments.of("block-export-add", "{'type':'nbd','id':'e','node-name':'n','bitmaps':['a',{'node':'x','name':'y','z':1}]}",
                "Parameter 'bitmaps[1].z' is unexpected"),
            Arguments.of("block-export-add", "{'type':'nbd','id':'e','node-name':'n','bitmaps':'a'}",
                "Invalid parameter type for 'bitmaps', expected: array"),
            Arguments.of("block-export-add", "{'type':'vhost-user-blk','id':'e','node-name':'n','addr':{'type':'unix'}}",
                "Parameter 'addr.path' is missing"),
            Arguments.of("block-export-add", "{'type':'vhost-user-blk','id':'e','node-name':'n','addr':{'type':'unix','path':'x'},'logical-block-size':'1k'}",
                "Parameter 'logical-block-size' expects uint64"),
            Arguments.of("block-export-add", "{'type':'vhost-user-blk','id':'e','node-name':'n','addr':{'type':'unix','path':'x'},'num-queues':70000}",
                "Parameter 'num-queues' expects uint16_t"),
            Arguments.of("block-export-add", "{'type':'vhost-user-blk','id':'e','node-name':'n','addr':{'type':'unix','path':'x'},'num-queues':-1}",
                "Parameter 'num-queues' expects uint16_t"),
            Arguments.of("block-export-add", "{'type':'vhost-user-blk','id':'e','node-name':'n','addr':{'type':'unix','path':'x'},'num-queues':'x'}",
                "Parameter 'num-queues' expects uint64"),
            Arguments.of("block-export-add", "{'type':'vhost-user-blk','id':'e','node-name':'n','addr':{'type':'unix','path':'x'},'num-queues':1.5}",
                "Parameter 'num-queues' expects uint64"),
            Arguments.of("nbd-server-start", "{'addr':{'type':'unix','data':{'path':1}}}",
                "Invalid parameter type for 'addr.data.path', expected: string"),
            Arguments.of("nbd-server-start", "{'addr':{'type':'unix','data':{'path':'x'}},'max-connections':-1}",
                "Parameter 'max-connections' expects uint32_t"),
            Arguments.of("nbd-server-start", "{'addr':{'type':'unix','data':{'path':'x'}},'max-connections':18446744073709551615}",
                "Parameter 'max-connections' expects uint32_t"),
            Arguments.of("nbd-server-start", "{'addr':{'type':'unix','data':{'path':'x'}},'max-connections':18446744073709551616}",
                "Parameter 'max-connections' expects uint64"),
            Arguments.of("nbd-server-start", "{'addr':{'type':'unix','data':{'path':'x'}},'max-connections':'1'}",
                "Parameter 'max-connections' expects uint64"),
            Arguments.of("nbd-server-start", "{'addr':{'type':'unixx','data':{'path':'x'}}}",
                "Parameter 'type' does not accept value 'unixx'"),
            Arguments.of("nbd-server-start", "{'addr':{'data':{'path':'x'}}}", "Parameter 'addr.type' is missing"),
            Arguments.of("nbd-server-start", "{'addr':'x'}", "Invalid parameter type for 'addr', expected: object"),
            Arguments.of("nbd-server-start", "{'addr':{'type':'unix'}}", "Parameter 'addr.data' is missing"),
            Arguments.of("nbd-server-start", "{'addr':{'type':'unix','data':{'path':'x','q':1},'r':2}}",
                "Parameter 'addr.data.q' is unexpected"),
            Arguments.of("qmp_capabilities", "{'enable':['foo']}", "Parameter 'null' does not accept value 'foo'"),
            Arguments.of("block-export-del", "{'id':'x','mode':'foo'}", "Parameter 'mode' does not accept value 'foo'"),
            Arguments.of("block-export-del", "{'id':null}", "Invalid parameter type for 'id', expected: string"),
            Arguments.of("block-export-del", "{'id':'x','mode':null}", "Invalid parameter type for 'mode', expected: string"),
            Arguments.of("blockdev-add", "{'driver':'raw','node-name':'r','file':1}",
                "Invalid parameter type for 'file', expected: BlockdevRef"),
            Arguments.of("blockdev-add", "{'driver':'raw','node-name':'r','file':{'driver':'file'}}",
                "Parameter 'file.filename' is missing"),
            Arguments.of("blockdev-add", "{'driver':'null-co','node-name':'r','size':1e3}",
                "Invalid parameter type for 'size', expected: integer"),
            Arguments.of("blockdev-add", "{'driver':'null-co','node-name':'r','size':9223372036854775808}",
                "Invalid parameter type for 'size', expected: integer"),
            Arguments.of("block-dirty-bitmap-add", "{'node':'r','name':'b','granularity':-1}",
                "Parameter 'granularity' expects uint32_t"),
            Arguments.of("block-dirty-bitmap-add", "{'node':'r','name':'b','granularity':4294967296}",
                "Parameter 'granularity' expects uint32_t"),
            Arguments.of("quit", "{'a':1}", "Parameter 'a' is unexpected"),
            Arguments.of("block-export-add", "{'type':'nbd','id':'e','node-name':'n','a':1,'b':2,'c':3,'zz':4}",
                "Parameter 'zz' is unexpected"),
            Arguments.of("block-export-add", "{'id':'e','node-name':'n'}", "Parameter 'type' is missing"),
            Arguments.of("block-export-add", "{'type':'nbd','node-name':'n','writable':1}", "Parameter 'id' is missing"),
            Arguments.of("object-add", "{'qom-type':'authz-list','id':'i','rules':[{'match':'a','policy':'allow'},{'match':'a','policy':'x'}]}",
                "Parameter 'policy' does not accept value 'x'"),
            Arguments.of("object-add", "{'qom-type':'authz-list','id':'i','rules':[{'match':'a','policy':'allow'},{'policy':'allow'}]}",
                "Parameter 'rules[1].match' is missing"),
            Arguments.of("object-add", "{'qom-type':'authz-list','id':'i','rules':[{'match':'a','policy':'allow'},5]}",
                "Invalid parameter type for 'rules[1]', expected: object"),
            Arguments.of("object-add", "{'qom-type':'authz-list','id':'i','rules':[{'policy':'allow'}]}",
                "Parameter 'rules[0].match' is missing"),
            Arguments.of("block-export-add", "{'type':'vhost-user-blk','id':'e','node-name':'n','addr':{'type':'inet','host':'h','port':'1','to':'x'}}",
                "Parameter 'addr.to' expects uint64"),
            Arguments.of("block-export-add", "{'type':'vhost-user-blk','id':'e','node-name':'n','addr':{'type':'inet','host':'h','port':'1','to':70000}}",
                "Parameter 'to' expects uint16_t"),
            Arguments.of("block-export-add", "{'type':'vhost-user-blk','id':'e','node-name':'n','addr':{'type':'inet','host':'h','port':'1','ipv4':'x'}}",
                "Invalid parameter type for 'addr.ipv4', expected: boolean"),
            Arguments.of("block-export-add", "{'type':'nbd','id':'e','node-name':'n','name':{}}",
                "Invalid parameter type for 'name', expected: string"),
            Arguments.of("block-export-add", "{'type':'nbd','id':'e','node-name':'n','bitmaps':[null]}",
                "Invalid parameter type for 'null', expected: BlockDirtyBitmapOrStr"),
            Arguments.of("block-export-add", "{'type':'fuse','id':'e','node-name':'n'}", "Parameter 'mountpoint' is missing"),
            Arguments.of("blockdev-add", "{'driver':'raw','node-name':'r','file':{'driver':'file','filename':'x','aio':'bogus'}}",
                "Parameter 'aio' does not accept value 'bogus'"),
            Arguments.of("blockdev-add", "{'driver':'raw','node-name':'r','file':{'driver':'bogus'}}",
                "Parameter 'driver' does not accept value 'bogus'"),
            Arguments.of("blockdev-add", "{'driver':'raw','node-name':'r','file':{'filename':'x'}}",
                "Parameter 'file.driver' is missing"),
            Arguments.of("blockdev-add", "{'driver':'raw','node-name':'r','cache':{'direct':1}}",
                "Invalid parameter type for 'cache.direct', expected: boolean"),
            Arguments.of("blockdev-add", "{'driver':'raw','node-name':'r','cache':{'direct':true,'x':1}}",
                "Parameter 'cache.x' is unexpected"),
            Arguments.of("block-dirty-bitmap-merge", "{'node':'n','target':'t','bitmaps':[true]}",
                "Invalid parameter type for 'null', expected: BlockDirtyBitmapOrStr"),
            Arguments.of("block-dirty-bitmap-merge", "{'node':'n','target':'t','bitmaps':[{'node':'n'}]}",
                "Parameter 'bitmaps[0].name' is missing"),
            Arguments.of("block_resize", "{'size':'1'}", "Invalid parameter type for 'size', expected: integer"),
            Arguments.of("block_resize", "{}", "Parameter 'size' is missing"),
            Arguments.of("query-named-block-nodes", "{'flat':1}", "Invalid parameter type for 'flat', expected: boolean"),
            Arguments.of("object-add", "{'qom-type':'secret','id':'s','format':'bogus'}", "Parameter 'format' does not accept value 'bogus'"),
            Arguments.of("object-add", "{'qom-type':'secret','id':'s','loaded':'x'}", "Invalid parameter type for 'loaded', expected: boolean"),
            Arguments.of("object-add", "{'qom-type':'nosuch','id':'s'}", "Parameter 'qom-type' does not accept value 'nosuch'"),
            Arguments.of("object-add", "{'id':'s'}", "Parameter 'qom-type' is missing"),
            Arguments.of("object-add", "{'qom-type':'iothread'}", "Parameter 'id' is missing"),
            Arguments.of("object-add", "{'qom-type':'iothread','id':'i','poll-max-ns':1.5}",
                "Invalid parameter type for 'poll-max-ns', expected: integer"),
            Arguments.of("blockdev-add", "{'driver':'raw','file':'f','x':1,'y':2}", "Parameter 'y' is unexpected"),
            Arguments.of("blockdev-add", "{'driver':'raw','file':'f','y':1,'x':2}", "Parameter 'y' is unexpected"),
            Arguments.of("blockdev-add", "{'driver':'raw','file':{'driver':'null-co','q':1},'x':1}", "Parameter 'file.q' is unexpected"));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("badArguments")
    void reportsQemusError(String command, String args, String expected) {
        QmpError e = assertThrows(QmpError.class, () -> SCHEMA.validateArguments(command, json(args)));
        assertEquals(expected, e.desc());
        assertEquals(QmpError.GENERIC, e.errorClass());
    }
}
