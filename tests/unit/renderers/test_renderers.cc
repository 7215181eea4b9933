// SPDX-License-Identifier: MIT
// The renderer table, sinks, option plumbing and escaping rules.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <string>

extern "C" {
#include "fixture.h"
#include "pyi/renderer.h"
}

namespace {

struct Loaded {
    std::string path;
    pyi_model *model = nullptr;
    explicit Loaded(const char *scenario)
    {
        char tmpl[] = "/tmp/pyi-render-test-XXXXXX";
        int fd = mkstemp(tmpl);
        close(fd);
        path = tmpl;
        EXPECT_EQ(fx_scenario(scenario, tmpl, 0), 0);
        char detail[256];
        const char *paths[] = {tmpl};
        EXPECT_EQ(pyi_model_load(&model, paths, 1, nullptr, detail, sizeof(detail)), 0) << detail;
    }
    ~Loaded()
    {
        pyi_model_free(model);
        unlink(path.c_str());
    }
};

std::string render(const char *name, const pyi_model *m, const pyi_render_options *o = nullptr)
{
    pyi_render_options defaults;
    pyi_render_options_init(&defaults);
    const pyi_renderer *r = pyi_renderer_find(name);
    EXPECT_NE(r, nullptr) << name;
    pyi_buffer buffer;
    pyi_sink sink;
    pyi_buffer_init(&buffer, &sink);
    char error[256] = "";
    EXPECT_EQ(r->render(m, o ? o : &defaults, &sink, error, sizeof(error)), 0) << error;
    std::string out(buffer.data ? buffer.data : "", buffer.size);
    pyi_buffer_destroy(&buffer);
    return out;
}

TEST(Renderers, TableAndExtensions)
{
    size_t count = 0;
    const pyi_renderer *const *all = pyi_renderers(&count);
    ASSERT_GE(count, 5u);
    for (size_t i = 0; i < count; i++)
        EXPECT_EQ(pyi_renderer_find(all[i]->name), all[i]);
    EXPECT_STREQ(pyi_renderer_for_path("x.speedscope.json")->name, "speedscope");
    EXPECT_STREQ(pyi_renderer_for_path("X.JSON")->name, "json");
    EXPECT_STREQ(pyi_renderer_for_path("p.pb.gz")->name, "pprof");
    EXPECT_STREQ(pyi_renderer_for_path("f.folded")->name, "collapsed");
    EXPECT_STREQ(pyi_renderer_for_path("r.txt")->name, "text");
    EXPECT_EQ(pyi_renderer_for_path("r.doc"), nullptr);
    EXPECT_EQ(pyi_renderer_find("nope"), nullptr);
    EXPECT_TRUE(pyi_renderer_find("pprof")->binary);
}

TEST(Renderers, ProcessorOverrides)
{
    const pyi_renderer *text = pyi_renderer_find("text");
    pyi_render_options o;
    pyi_render_options_init(&o);
    EXPECT_EQ(pyi_render_processors(text, &o), (unsigned)PYI_PROC_DEFAULT);
    o.processors_off = PYI_PROC_GROUP_LIBRARY;
    o.processors_on = PYI_PROC_COLLAPSE_RECURSION;
    EXPECT_EQ(pyi_render_processors(text, &o),
              (PYI_PROC_DEFAULT & ~PYI_PROC_GROUP_LIBRARY) | PYI_PROC_COLLAPSE_RECURSION);
    pyi_render_options_init(&o);
    o.show_all = 1;
    EXPECT_FALSE(pyi_render_processors(text, &o) & PYI_PROC_GROUP_LIBRARY);
    EXPECT_FALSE(pyi_render_processors(text, &o) & PYI_PROC_HIDE_IMPORTLIB);
}

TEST(Renderers, SinkFailureIsAnIoError)
{
    Loaded l("demo");
    size_t count = 0;
    const pyi_renderer *const *all = pyi_renderers(&count);
    for (size_t i = 0; i < count; i++) {
        pyi_sink refusing = {[](void *, const void *, size_t) { return -1; }, nullptr};
        pyi_render_options o;
        pyi_render_options_init(&o);
        char error[256] = "";
        EXPECT_EQ(all[i]->render(l.model, &o, &refusing, error, sizeof(error)), PYI_E_IO)
            << all[i]->name;
        EXPECT_NE(error[0], '\0') << all[i]->name;
    }
}

TEST(Renderers, JsonEscapesEverythingFromTheTrace)
{
    Loaded l("hostile");
    std::string json = render("json", l.model);
    EXPECT_EQ(json.find('<'), std::string::npos);
    EXPECT_EQ(json.find('>'), std::string::npos);
    EXPECT_EQ(json.find('\n'), json.size() - 1); // only the final newline
    EXPECT_NE(json.find("\\u003cscript\\u003ealert(1)\\u003c/script\\u003e"), std::string::npos);
    EXPECT_NE(json.find("quote\\\"and\\\\backslash"), std::string::npos);
    EXPECT_NE(json.find("naïve_функция_日本"), std::string::npos);
    std::string ss = render("speedscope", l.model);
    EXPECT_EQ(ss.find('<'), std::string::npos);
}

TEST(Renderers, TextNeutralisesControlCharacters)
{
    Loaded l("hostile");
    std::string text = render("text", l.model);
    EXPECT_NE(text.find("new\\nline\\ttab"), std::string::npos);
    EXPECT_EQ(text.find('\t'), std::string::npos);
    EXPECT_EQ(text.find('\x01'), std::string::npos);
    EXPECT_NE(text.find("tab\\x01ctl"), std::string::npos);
    EXPECT_EQ(text.find('\x1b'), std::string::npos); // no colour unless asked
}

TEST(Renderers, CollapsedKeepsOneFramePerField)
{
    Loaded l("hostile");
    std::string folded = render("collapsed", l.model);
    EXPECT_NE(folded.find("semi:colon (app.py:7) 30000\n"), std::string::npos) << folded;
    EXPECT_NE(folded.find("new?line?tab?ctl"), std::string::npos) << folded;
}

TEST(Renderers, PprofIsGzip)
{
    Loaded l("tiny");
    std::string p = render("pprof", l.model);
    ASSERT_GT(p.size(), 20u);
    EXPECT_EQ((unsigned char)p[0], 0x1f);
    EXPECT_EQ((unsigned char)p[1], 0x8b);
}

TEST(Renderers, TextViewsOfTheTinyTrace)
{
    Loaded l("tiny");
    pyi_render_options o;
    pyi_render_options_init(&o);
    o.no_header = 1;
    o.ascii = 1;
    EXPECT_EQ(render("text", l.model, &o), "0.500 <module>  app.py:1\n"
                                           "|- 0.400 a  app.py:3\n"
                                           "|  |- 0.300 sleep  <native>\n"
                                           "|  `- 0.100 b  app.py:7\n"
                                           "`- 0.100 b  app.py:7\n");
    o.metric = PYI_METRIC_SAMPLES;
    EXPECT_EQ(render("text", l.model, &o).substr(0, 15), "5 <module>  app");
    o.metric = PYI_METRIC_WALL;
    o.inverted = 1;
    EXPECT_EQ(render("text", l.model, &o), "0.500 [all]\n"
                                           "|- 0.300 sleep  <native>\n"
                                           "|  `- 0.300 a  app.py:3\n"
                                           "|     `- 0.300 <module>  app.py:1\n"
                                           "`- 0.200 b  app.py:7\n"
                                           "   |- 0.100 <module>  app.py:1\n"
                                           "   `- 0.100 a  app.py:3\n"
                                           "      `- 0.100 <module>  app.py:1\n");
}

} // namespace
